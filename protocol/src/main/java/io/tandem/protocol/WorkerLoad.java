package io.tandem.protocol;

/**
 * Load a worker reports with its heartbeat; the router reads it.
 *
 * @param draining the worker is shutting down gracefully: it finishes (or hands over) what it holds and takes no new
 *                 request, so routers skip it while its streams stay where they are
 * @param queuedPromptTokens     prompt tokens held by the engine and not yet computed (waiting requests and unfinished
 *                               prefills): the prefill queue a new request waits behind
 * @param prefillTokensPerSecond the engine's measured prefill rate, learnt online; 0 while not measured
 * @param decodeStepMillis       the engine's measured time of a step at its current decode batch, learnt online; 0
 *                               while not measured
 */
public record WorkerLoad(int runningRequests, int waitingRequests, int activeBlocks, int totalBlocks, boolean draining,
                         long queuedPromptTokens, double prefillTokensPerSecond, double decodeStepMillis) {
    public static final WorkerLoad IDLE = new WorkerLoad(0, 0, 0, 0);

    public WorkerLoad {
        if (queuedPromptTokens < 0 || !(prefillTokensPerSecond >= 0) || !(decodeStepMillis >= 0)) {
            throw new IllegalArgumentException("queued prompt tokens and measured rates must be >= 0");
        }
    }

    public WorkerLoad(int runningRequests, int waitingRequests, int activeBlocks, int totalBlocks, boolean draining) {
        this(runningRequests, waitingRequests, activeBlocks, totalBlocks, draining, 0, 0, 0);
    }

    public WorkerLoad(int runningRequests, int waitingRequests, int activeBlocks, int totalBlocks) {
        this(runningRequests, waitingRequests, activeBlocks, totalBlocks, false);
    }

    /** The same load, marked as draining. */
    public WorkerLoad asDraining() {
        return new WorkerLoad(runningRequests, waitingRequests, activeBlocks, totalBlocks, true, queuedPromptTokens,
                prefillTokensPerSecond, decodeStepMillis);
    }

    /** Whether the worker has measured its rates (a prediction of its latency can be made). */
    public boolean measured() {
        return prefillTokensPerSecond > 0;
    }
}
