package io.tandem.gateway.dispatch;

/**
 * Timing and flow-control knobs of the gateway-to-worker conversation.
 *
 * @param initialCredits    tokens a worker may send before the gateway grants more; bounds what
 *                          the gateway buffers per request when the client reads slowly
 * @param acceptTimeoutMs   how long a worker has to accept or refuse a generate request
 * @param idleTimeoutMs     how long a stream may stay silent while the worker owes tokens
 *                          (it has credits) before the request is failed and cancelled
 * @param stopGraceMs       after a stop string ended the text: how long to wait for the worker's
 *                          final usage before finishing without it
 * @param retryAfterSeconds the Retry-After of 429 and 503 answers
 */
public record DispatchOptions(int initialCredits, long acceptTimeoutMs, long idleTimeoutMs, long stopGraceMs,
                              int retryAfterSeconds) {

    public DispatchOptions {
        if (initialCredits < 1) throw new IllegalArgumentException("initialCredits must be >= 1");
        if (acceptTimeoutMs < 1 || idleTimeoutMs < 1 || stopGraceMs < 1) throw new IllegalArgumentException("timeouts must be >= 1 ms");
        if (retryAfterSeconds < 0) throw new IllegalArgumentException("retryAfterSeconds must be >= 0");
    }

    public static DispatchOptions defaults() {
        return new DispatchOptions(32, 10_000, 60_000, 2_000, 1);
    }

    /** Credits are returned in batches of this size (or sooner when the worker runs low). */
    int creditBatch() {
        return Math.max(1, initialCredits / 4);
    }
}
