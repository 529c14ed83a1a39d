package io.tandem.registry.kv;

import io.tandem.protocol.kv.KvEventBatch;
import io.vertx.core.Future;

import java.util.List;

/**
 * Where workers leave a snapshot of their prefix cache (a batch that starts with a clear) so that a
 * router that starts or restarts can rebuild its index without waiting for events. Each entry lives
 * for one lease unless its worker writes it again: a dead worker's blocks vanish with its lease.
 */
public interface KvSnapshotStore {

    /** Stores (replaces) the snapshot of {@code snapshot.workerId()} and renews its lease. */
    Future<Void> put(KvEventBatch snapshot);

    Future<Void> remove(String workerId);

    /** How long an entry lives unless written again. */
    long leaseMillis();

    /** Every live snapshot. */
    Future<List<KvEventBatch>> all();
}
