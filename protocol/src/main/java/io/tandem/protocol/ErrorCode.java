package io.tandem.protocol;

/**
 * Failure kinds that cross node boundaries. {@link #code()} is used as the event-bus
 * {@code ReplyException} failure code and maps to an HTTP status in the gateway.
 */
public enum ErrorCode {
    /** The request itself is invalid for this worker (e.g. prompt longer than the context). */
    INVALID_REQUEST(400, 400),
    /** The worker does not serve this model. */
    MODEL_NOT_FOUND(404, 404),
    /** The worker is at capacity: try another or later. */
    OVERLOADED(429, 429),
    /** The worker is shutting down or otherwise unable to serve. */
    UNAVAILABLE(503, 503),
    /**
     * A data-plane peer is not the one the registry names (worker id, member or epoch) or refused our credentials:
     * between workers only (the decode worker then prefills locally), never shown to a client.
     */
    PEER_REFUSED(421, 503),
    /**
     * The worker is draining (graceful shutdown): it refuses new requests, and hands over the ones its drain timeout
     * cut short, so the gateway migrates them to another worker.
     */
    DRAINING(4503, 503),
    /** A bug or engine failure. */
    INTERNAL(500, 500);

    private final int code;
    private final int httpStatus;

    ErrorCode(int code, int httpStatus) {
        this.code = code;
        this.httpStatus = httpStatus;
    }

    public int code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public static ErrorCode fromCode(int code) {
        for (ErrorCode c : values()) if (c.code == code) return c;
        return INTERNAL;
    }
}
