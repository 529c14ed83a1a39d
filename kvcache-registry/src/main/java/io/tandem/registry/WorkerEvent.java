package io.tandem.registry;

import io.tandem.protocol.WorkerRecord;

/** A change of the live worker view. */
public sealed interface WorkerEvent {

    /** The worker as it is now (for {@link Removed}: as it was last seen). */
    WorkerRecord worker();

    /** A worker became visible. */
    record Added(WorkerRecord worker) implements WorkerEvent {}

    /** A visible worker changed (load, or any field on re-registration). */
    record Updated(WorkerRecord worker) implements WorkerEvent {}

    /** A worker left the view. */
    record Removed(WorkerRecord worker, Cause cause) implements WorkerEvent {}

    /** Why a worker left. */
    enum Cause {
        /** It deregistered. */
        DEREGISTERED,
        /** No heartbeat within the lease (hung, undeployed, or a partitioned member). */
        LEASE_EXPIRED,
        /** The cluster member it ran in left. */
        MEMBER_LEFT
    }
}
