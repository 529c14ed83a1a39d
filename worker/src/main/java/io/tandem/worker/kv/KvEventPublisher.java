package io.tandem.worker.kv;

import io.tandem.engine.cache.KvEventSink;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.kv.KvEventBatch;
import io.tandem.registry.kv.KvMirror;
import io.tandem.registry.kv.KvSnapshotStore;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;


/**
 * Carries a worker's KV events from its engine to the routers: each batch is published on the
 * event bus ({@link Addresses#KV_EVENTS}) for every router's index, and folded into a mirror
 * whose snapshot goes to the registry's {@link KvSnapshotStore} (at most every
 * {@code snapshotMillis}, and at least every third of the store's lease so it does not expire), for routers
 * that start later. Resync requests ({@link Addresses#kvResync}) make the engine publish a snapshot.
 *
 * <p>{@link #publish} is called on the engine thread and only hands the batch to the worker's
 * context; everything else runs on that context.
 */
public final class KvEventPublisher implements KvEventSink {
    private static final System.Logger LOG = System.getLogger(KvEventPublisher.class.getName());

    private final Vertx vertx;
    private final Context context;
    private final String workerId;
    private final KvSnapshotStore store;
    private final KvMirror mirror;
    private long timer = -1;
    private long storedVersion = -1;
    private long storedAtMillis;
    private MessageConsumer<Object> resyncConsumer;

    public KvEventPublisher(Vertx vertx, Context context, String workerId, KvSnapshotStore store) {
        this.vertx = vertx;
        this.context = context;
        this.workerId = workerId;
        this.store = store;
        this.mirror = new KvMirror(workerId);
    }

    @Override
    public void publish(KvEventBatch batch) {
        context.runOnContext(v -> {
            mirror.apply(batch);
            vertx.eventBus().publish(Addresses.KV_EVENTS, batch);
        });
    }

    /**
     * Starts the snapshot timer and the resync consumer; call on the worker's context.
     *
     * @param onResync makes the engine publish a snapshot batch
     */
    public void start(long snapshotMillis, Runnable onResync) {
        long refreshMillis = Math.max(1, store.leaseMillis() / 3);
        timer = vertx.setPeriodic(snapshotMillis, id -> {
            long now = System.currentTimeMillis();
            if (mirror.version() == storedVersion && now - storedAtMillis < refreshMillis) return;
            storedVersion = mirror.version();
            storedAtMillis = now;
            store.put(mirror.snapshot(now)).onFailure(e -> LOG.log(System.Logger.Level.WARNING,
                    "storing the KV snapshot of " + workerId + " failed: " + e.getMessage()));
        });
        resyncConsumer = vertx.eventBus().consumer(Addresses.kvResync(workerId), msg -> {
            onResync.run();
            msg.reply(null);
        });
    }

    /** Stops publishing and removes the snapshot (the worker leaves). */
    public io.vertx.core.Future<Void> stop() {
        if (timer >= 0) vertx.cancelTimer(timer);
        io.vertx.core.Future<Void> unsubscribed = resyncConsumer == null ? io.vertx.core.Future.succeededFuture() : resyncConsumer.unregister();
        return unsubscribed.compose(v -> store.remove(workerId)).recover(e -> io.vertx.core.Future.succeededFuture());
    }
}
