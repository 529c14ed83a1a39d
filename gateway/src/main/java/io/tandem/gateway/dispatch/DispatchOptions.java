package io.tandem.gateway.dispatch;

/**
 * Timing, flow-control, migration and queueing knobs of the gateway-to-worker conversation.
 *
 * @param initialCredits    tokens a worker may send before the gateway grants more; bounds what
 *                          the gateway buffers per request when the client reads slowly
 * @param acceptTimeoutMs   how long a worker has to accept or refuse a generate request
 * @param idleTimeoutMs     how long a stream may stay silent — no token, no keep-alive — while the worker owes tokens
 *                          before it counts as stalled (the worker sends keep-alives every quarter of this)
 * @param stopGraceMs       after a stop string ended the text: how long to wait for the worker's
 *                          final usage before finishing without it
 * @param retryAfterSeconds the Retry-After of 429 and 503 answers
 * @param migrationLimit    how often one request may move to another worker; 0 disables migration
 * @param maxQueueWaitMs    how long a request may wait in the gateway's queue for a worker
 * @param maxQueue          requests per model the queue holds; beyond that, 429
 */
public record DispatchOptions(int initialCredits, long acceptTimeoutMs, long idleTimeoutMs, long stopGraceMs,
                              int retryAfterSeconds, int migrationLimit, long maxQueueWaitMs, int maxQueue) {

    public DispatchOptions {
        if (initialCredits < 1) throw new IllegalArgumentException("initialCredits must be >= 1");
        if (acceptTimeoutMs < 1 || idleTimeoutMs < 1 || stopGraceMs < 1) throw new IllegalArgumentException("timeouts must be >= 1 ms");
        if (retryAfterSeconds < 0) throw new IllegalArgumentException("retryAfterSeconds must be >= 0");
        if (migrationLimit < 0 || maxQueueWaitMs < 0 || maxQueue < 0) {
            throw new IllegalArgumentException("migrationLimit, maxQueueWaitMs and maxQueue must be >= 0");
        }
    }

    public static DispatchOptions defaults() {
        return new DispatchOptions(32, 10_000, 20_000, 2_000, 1, 3, 30_000, 4096);
    }

    /** Credits are returned in batches of this size (or sooner when the worker runs low). */
    int creditBatch() {
        return Math.max(1, initialCredits / 4);
    }

    /** How often a worker must show a stream is alive while it owes tokens. */
    int keepaliveMillis() {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, idleTimeoutMs / 4));
    }
}
