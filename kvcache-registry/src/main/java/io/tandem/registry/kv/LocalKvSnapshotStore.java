package io.tandem.registry.kv;

import io.tandem.protocol.kv.KvEventBatch;
import io.vertx.core.Future;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/** Snapshots inside one JVM (embedded mode), with the same lease semantics as the clustered store. */
public final class LocalKvSnapshotStore implements KvSnapshotStore {
    private record Entry(KvEventBatch snapshot, long expiresAtMillis) {}

    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final long leaseMillis;
    private final LongSupplier clock;

    public LocalKvSnapshotStore(long leaseMillis, LongSupplier clock) {
        this.leaseMillis = leaseMillis;
        this.clock = clock;
    }

    @Override
    public Future<Void> put(KvEventBatch snapshot) {
        entries.put(snapshot.workerId(), new Entry(snapshot, clock.getAsLong() + leaseMillis));
        return Future.succeededFuture();
    }

    @Override
    public long leaseMillis() {
        return leaseMillis;
    }

    @Override
    public Future<Void> remove(String workerId) {
        entries.remove(workerId);
        return Future.succeededFuture();
    }

    @Override
    public Future<List<KvEventBatch>> all() {
        long now = clock.getAsLong();
        entries.values().removeIf(e -> e.expiresAtMillis() <= now);
        return Future.succeededFuture(entries.values().stream().map(Entry::snapshot).toList());
    }
}
