package io.tandem.protocol;

/**
 * Load a worker reports with its heartbeat; the router reads it.
 *
 * @param draining the worker is shutting down gracefully: it finishes (or hands over) what it holds and takes no new
 *                 request, so routers skip it while its streams stay where they are
 */
public record WorkerLoad(int runningRequests, int waitingRequests, int activeBlocks, int totalBlocks, boolean draining) {
    public static final WorkerLoad IDLE = new WorkerLoad(0, 0, 0, 0);

    public WorkerLoad(int runningRequests, int waitingRequests, int activeBlocks, int totalBlocks) {
        this(runningRequests, waitingRequests, activeBlocks, totalBlocks, false);
    }

    /** The same load, marked as draining. */
    public WorkerLoad asDraining() {
        return new WorkerLoad(runningRequests, waitingRequests, activeBlocks, totalBlocks, true);
    }
}
