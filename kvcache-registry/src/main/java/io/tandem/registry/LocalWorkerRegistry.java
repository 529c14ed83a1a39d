package io.tandem.registry;

import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent.Cause;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.function.LongSupplier;

/**
 * A registry inside one JVM (embedded mode, tests). Same lease semantics as the clustered one:
 * a worker whose heartbeats stop (its verticle undeployed or hung) disappears after the lease.
 */
public final class LocalWorkerRegistry extends LeasedRegistry {

    /** The node id every record of a local registry carries. */
    public static final String NODE_ID = "local";

    public LocalWorkerRegistry(Vertx vertx) {
        this(vertx, RegistryOptions.defaults());
    }

    public LocalWorkerRegistry(Vertx vertx, RegistryOptions options) {
        this(vertx, options, System::nanoTime, System::currentTimeMillis);
    }

    /** With clocks of the caller's choosing (tests drive expiry with a fake monotonic clock). */
    LocalWorkerRegistry(Vertx vertx, RegistryOptions options, LongSupplier nanoClock, LongSupplier wallClock) {
        super(vertx, options, nanoClock, wallClock);
        this.kvSnapshots = new io.tandem.registry.kv.LocalKvSnapshotStore(options.leaseMillis(), wallClock);
        startSweeping();
    }

    private final io.tandem.registry.kv.KvSnapshotStore kvSnapshots;

    @Override
    public io.tandem.registry.kv.KvSnapshotStore kvSnapshots() {
        return kvSnapshots;
    }

    @Override
    public String nodeId() {
        return NODE_ID;
    }

    @Override
    protected Future<Void> publish(WorkerRecord record) {
        apply(() -> view.upsert(record, nanoTime(), 0));
        return Future.succeededFuture();
    }

    @Override
    protected Future<Void> unpublish(WorkerRecord record) {
        apply(() -> view.remove(record.workerId(), record.heartbeatMillis(), Cause.DEREGISTERED, nanoTime()));
        return Future.succeededFuture();
    }

    @Override
    protected Future<Void> release() {
        return Future.succeededFuture();
    }
}
