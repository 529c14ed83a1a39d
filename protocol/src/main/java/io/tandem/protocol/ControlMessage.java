package io.tandem.protocol;

/** Gateway to worker, on {@link Addresses#control(String)} of the worker serving the request. */
public sealed interface ControlMessage {

    String requestId();

    /** The gateway has written out tokens: the worker may send {@code tokens} more. */
    record Credit(String requestId, int tokens) implements ControlMessage {}

    /** Stop generating and free everything held for the request (client went away, timeout...). */
    record Cancel(String requestId, String reason) implements ControlMessage {}
}
