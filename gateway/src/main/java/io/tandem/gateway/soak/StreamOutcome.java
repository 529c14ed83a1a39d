package io.tandem.gateway.soak;

/** How one soak request ended. Disconnects and cancels are the client's own doing and never count as failures. */
public sealed interface StreamOutcome {
    /** Every token asked for, finish reason {@code length}, usage matching, {@code [DONE]}. */
    record Completed(int chunks) implements StreamOutcome {}

    /** The client closed the connection mid-stream, as planned. */
    record Disconnected(int chunks) implements StreamOutcome {}

    /** The client reset the request after its planned delay. */
    record Cancelled(int chunks) implements StreamOutcome {}

    /**
     * Anything else: an error status or event, a cut or short stream, a wrong count.
     *
     * @param kind   a short, low-cardinality name to count by ({@code HTTP 503}, {@code no [DONE]})
     * @param detail what exactly happened
     */
    record Failed(String kind, String detail) implements StreamOutcome {}
}
