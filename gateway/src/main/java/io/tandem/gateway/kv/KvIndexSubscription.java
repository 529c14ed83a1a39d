package io.tandem.gateway.kv;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.kv.KvEventBatch;
import io.tandem.registry.WorkerEvent;
import io.tandem.registry.WorkerRegistry;
import io.tandem.registry.kv.KvIndex;
import io.tandem.registry.kv.KvIndexFeed;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Keeps a gateway's {@link KvIndex} in sync with the workers: loads the snapshots the registry
 * holds, then applies every batch workers publish on {@link Addresses#KV_EVENTS}; a gap asks the
 * worker for a resync; a worker that leaves the registry leaves the index. Runs on the context of
 * the verticle that starts it.
 */
public final class KvIndexSubscription {
    private static final System.Logger LOG = System.getLogger(KvIndexSubscription.class.getName());

    private final Vertx vertx;
    private final WorkerRegistry registry;
    private final KvIndex index;
    private final KvIndexFeed feed;
    private final Timer lag;
    private final Counter events;
    private MessageConsumer<KvEventBatch> consumer;
    private AutoCloseable registryListener;

    public KvIndexSubscription(Vertx vertx, WorkerRegistry registry, KvIndex index, MeterRegistry meters) {
        this.vertx = vertx;
        this.registry = registry;
        this.index = index;
        this.feed = new KvIndexFeed(index, this::resync, 2_000);
        this.lag = Timer.builder("tandem.router.kv.event.lag").description("From a worker's KV event batch to the router's index")
                .publishPercentiles(0.5, 0.99).serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(10), Duration.ofMillis(100))
                .register(meters);
        this.events = Counter.builder("tandem.router.kv.events").description("KV event batches applied to the index").register(meters);
        Gauge.builder("tandem.router.kv.index.blocks", index, KvIndex::size).description("Distinct block hashes in the KV index").register(meters);
        Gauge.builder("tandem.router.kv.index.entries", index, KvIndex::entries).description("(worker, block) entries in the KV index").register(meters);
        Gauge.builder("tandem.router.kv.resyncs", feed, KvIndexFeed::resyncsRequested).description("Resyncs asked of workers after missed batches").register(meters);
    }

    /** Subscribes, then loads the registry's snapshots (a batch missed in between is caught as a gap). */
    public Future<Void> start() {
        consumer = vertx.eventBus().consumer(Addresses.KV_EVENTS, msg -> apply(msg.body()));
        registryListener = registry.onChange(e -> {
            if (e instanceof WorkerEvent.Removed r) feed.removeWorker(r.worker().workerId());
        });
        return consumer.completion()
                .compose(v -> registry.kvSnapshots().all())
                .map(snapshots -> {
                    for (KvEventBatch s : snapshots) {
                        if (registry.worker(s.workerId()).isPresent()) feed.onBatch(s);
                    }
                    LOG.log(System.Logger.Level.INFO, "KV index loaded {0} worker snapshots ({1} blocks)", snapshots.size(), index.size());
                    return (Void) null;
                });
    }

    private void apply(KvEventBatch batch) {
        if (registry.worker(batch.workerId()).isEmpty()) return; // a worker the registry dropped (or not yet registered)
        feed.onBatch(batch);
        events.increment();
        lag.record(Math.max(0, System.currentTimeMillis() - batch.timestampMillis()), TimeUnit.MILLISECONDS);
    }

    private void resync(String workerId) {
        LOG.log(System.Logger.Level.DEBUG, "KV events of {0} have a gap: asking for a snapshot", workerId);
        vertx.eventBus().request(Addresses.kvResync(workerId), null, new DeliveryOptions().setSendTimeout(5_000))
                .onFailure(e -> LOG.log(System.Logger.Level.DEBUG, "resync of {0} failed: {1}", workerId, e.getMessage()));
    }

    public Future<Void> stop() {
        if (registryListener != null) {
            try {
                registryListener.close();
            } catch (Exception ignored) {
                // closing a listener does not fail
            }
        }
        return consumer == null ? Future.succeededFuture() : consumer.unregister();
    }
}
