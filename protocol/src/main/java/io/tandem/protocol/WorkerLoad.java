package io.tandem.protocol;

/** Load a worker reports with its heartbeat; the router reads it. */
public record WorkerLoad(int runningRequests, int waitingRequests, int activeBlocks, int totalBlocks) {
    public static final WorkerLoad IDLE = new WorkerLoad(0, 0, 0, 0);
}
