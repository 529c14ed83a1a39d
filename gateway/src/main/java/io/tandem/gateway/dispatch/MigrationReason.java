package io.tandem.gateway.dispatch;

import io.tandem.protocol.ErrorCode;

/**
 * Why a generation moved from one worker to another: the {@code reason} label of {@code tandem_migrations_total}.
 * Each names a failure another worker does not share, so continuing there gives the client the stream it would have
 * had without the fault.
 */
public enum MigrationReason {
    /** The worker's registry record went: it deregistered, its member left the cluster or its lease expired. */
    WORKER_LEFT("worker_left"),
    /** The worker sent nothing, not even a keep-alive, for the stall timeout. */
    STALLED("stalled"),
    /** The worker's drain timeout ran out and it handed the request over. */
    DRAINED("drained"),
    /** The worker answered that it cannot serve (shutting down, its engine closed). */
    WORKER_UNAVAILABLE("worker_unavailable"),
    /** Token messages arrived out of order: the tokens before the gap are kept, the rest is generated again. */
    STREAM_GAP("stream_gap");

    private final String label;

    MigrationReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The migration a worker's failure code calls for, or null when another worker would fail the same way. */
    static MigrationReason of(ErrorCode code) {
        return switch (code) {
            case DRAINING -> DRAINED;
            case UNAVAILABLE, OVERLOADED, PEER_REFUSED -> WORKER_UNAVAILABLE;
            case INVALID_REQUEST, MODEL_NOT_FOUND, INTERNAL -> null;
        };
    }
}
