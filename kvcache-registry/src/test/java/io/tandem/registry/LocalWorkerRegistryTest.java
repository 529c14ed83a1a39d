package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent.Cause;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.registry.Workers.eventually;
import static io.tandem.registry.Workers.record;
import static io.tandem.registry.Workers.stays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalWorkerRegistryTest {
    static final RegistryOptions SHORT = RegistryOptions.withLease(600); // heartbeat 200 ms

    Vertx vertx;
    LocalWorkerRegistry registry;
    final List<WorkerEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        registry = new LocalWorkerRegistry(vertx, SHORT);
        registry.onChange(events::add);
    }

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    static List<String> ids(List<WorkerRecord> records) {
        return records.stream().map(WorkerRecord::workerId).toList();
    }

    @Test
    void registeredWorkersAreLiveAndFilteredByModel() {
        registry.register(record("w1", "llama")).await();
        registry.register(record("w2", "qwen")).await();
        registry.register(record("w3", "llama")).await();
        assertEquals(List.of("w1", "w2", "w3"), ids(registry.liveWorkers()));
        assertEquals(List.of("w1", "w3"), ids(registry.liveWorkers("llama")));
        assertEquals(List.of(), registry.liveWorkers("gpt"));
        assertEquals(List.of("llama", "qwen"), List.copyOf(registry.liveModels()));
        assertEquals(LocalWorkerRegistry.NODE_ID, registry.worker("w2").orElseThrow().nodeId(), "empty nodeId is filled in");
        assertSame(registry.liveWorkers("llama"), registry.liveWorkers("llama"), "reads hand out the same snapshot: no work per call");
    }

    @Test
    void heartbeatsKeepAWorkerAliveOverManyLeases() {
        registry.register(record("w1", "m")).await();
        long firstBeat = registry.worker("w1").orElseThrow().heartbeatMillis();
        stays(2_000, () -> registry.worker("w1").isPresent(), () -> "w1 dropped although heartbeating: " + events);
        assertTrue(registry.worker("w1").orElseThrow().heartbeatMillis() > firstBeat + 1_000, "heartbeats refresh the record");
        eventually(10_000, () -> events.size() == 1, () -> "only the Added event expected: " + events);
        assertInstanceOf(WorkerEvent.Added.class, events.getFirst());
    }

    @Test
    void theRegistryStampsTheRegistrationAndHeartbeatsKeepItWithEpochAndContract() {
        WorkerRecord given = record("w1", "m");
        long before = System.currentTimeMillis();
        registry.register(given).await();
        WorkerRecord first = registry.worker("w1").orElseThrow();
        assertTrue(first.registeredMillis() >= before && first.registeredMillis() <= System.currentTimeMillis(), "" + first);
        eventually(10_000, () -> registry.worker("w1").orElseThrow().heartbeatMillis() > first.heartbeatMillis(), () -> "a heartbeat");
        WorkerRecord later = registry.worker("w1").orElseThrow();
        assertEquals(first.registeredMillis(), later.registeredMillis());
        assertEquals(given.epoch(), later.epoch());
        assertEquals(Workers.CONTRACT, later.contract());
    }

    @Test
    void aWorkerWithoutAContractIsRefused() {
        WorkerRecord r = record("w1", "m");
        WorkerRecord bare = new WorkerRecord(r.workerId(), r.role(), r.model(), r.nodeId(), r.host(), r.httpPort(),
                r.maxContext(), r.load(), 0, r.epoch(), null, 0);
        var e = assertThrows(java.util.concurrent.CompletionException.class,
                () -> registry.register(bare).toCompletionStage().toCompletableFuture().join());
        assertTrue(e.getCause().getMessage().contains("states no cluster contract"), e.getCause().getMessage());
        assertEquals(List.of(), registry.liveWorkers());
    }

    @Test
    void deregisterRemovesAndTellsListeners() {
        registry.register(record("w1", "m")).await();
        registry.deregister("w1").await();
        assertEquals(List.of(), registry.liveWorkers());
        eventually(10_000, () -> events.size() == 2, () -> "events: " + events);
        WorkerEvent.Removed removed = assertInstanceOf(WorkerEvent.Removed.class, events.get(1));
        assertEquals("w1", removed.worker().workerId());
        assertEquals(Cause.DEREGISTERED, removed.cause());
        registry.deregister("never-registered").await();
        stays(800, () -> registry.liveWorkers().isEmpty(), () -> "a stopped heartbeat must not re-publish");
    }

    @Test
    void undeployingTheRegisteringVerticleDeregisters() {
        Workers.Deployed w = Workers.deployRegistering(vertx, registry, record("w1", "m"));
        assertTrue(registry.worker("w1").isPresent());
        vertx.undeploy(w.deploymentId()).await();
        assertTrue(registry.worker("w1").isEmpty(), "gone as soon as the undeploy completed");
        eventually(10_000, () -> events.getLast() instanceof WorkerEvent.Removed r && r.cause() == Cause.DEREGISTERED,
                () -> "events: " + events);
    }

    @Test
    void aHungWorkerExpiresAfterTheLeaseAndReturnsWhenItRecovers() throws Exception {
        Workers.Deployed w = Workers.deployRegistering(vertx, registry, record("hung", "m"));
        try (AutoCloseable hung = w.hang()) { // it recovers only once its expiry was seen
            // the bound is the behaviour (gone within about a lease), with slack for a loaded machine
            long gone = eventually(SHORT.leaseMillis() + 2_000, () -> registry.worker("hung").isEmpty(), () -> "still live");
            assertTrue(gone >= SHORT.leaseMillis() - SHORT.heartbeatMillis() - 50, "dropped too early, after " + gone + " ms");
            eventually(10_000, () -> events.getLast() instanceof WorkerEvent.Removed r && r.cause() == Cause.LEASE_EXPIRED,
                    () -> "events: " + events);
        }
        eventually(10_000, () -> registry.worker("hung").isPresent(), () -> "not back after its heartbeats resumed");
        // listeners run after the view changed: wait for the event rather than racing it
        eventually(10_000, () -> events.getLast() instanceof WorkerEvent.Added, () -> "events: " + events);
    }

    @Test
    void leaseExpiryFollowsTheMonotonicClock() {
        vertx.close().await();
        vertx = Vertx.vertx();
        AtomicLong nanos = new AtomicLong();
        // a long real heartbeat, so only the fake clock decides
        RegistryOptions options = new RegistryOptions(6_000, 3_000, 250, RegistryOptions.DEFAULT_MAP_NAME);
        registry = new LocalWorkerRegistry(vertx, options, nanos::get, System::currentTimeMillis);
        registry.register(record("w1", "m")).await();
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(5_999));
        stays(150, () -> registry.worker("w1").isPresent(), () -> "dropped before the lease ran out");
        nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
        eventually(10_000, () -> registry.worker("w1").isEmpty(), () -> "not dropped once the lease ran out");
    }

    @Test
    void largeLoadChangesArePublishedBeforeTheNextHeartbeat() {
        vertx.close().await();
        vertx = Vertx.vertx();
        registry = new LocalWorkerRegistry(vertx, new RegistryOptions(20_000, 10_000, 50, RegistryOptions.DEFAULT_MAP_NAME));
        registry.register(record("w1", "m")).await();
        registry.reportLoad("w1", new WorkerLoad(0, 0, 1, 1000)); // small: waits for the heartbeat
        stays(300, () -> registry.worker("w1").orElseThrow().load().equals(WorkerLoad.IDLE), () -> "small change published early");
        WorkerLoad busy = new WorkerLoad(4, 2, 300, 1000);
        registry.reportLoad("w1", busy);
        // well before the 10 s heartbeat: published at once, not riding on it
        eventually(5_000, () -> registry.worker("w1").orElseThrow().load().equals(busy), () -> "large change not published");
        registry.reportLoad("unknown", busy); // ignored, no error
    }

    @Test
    void loadReportsRideOnTheHeartbeat() {
        registry.register(record("w1", "m")).await();
        WorkerLoad small = new WorkerLoad(0, 0, 1, 1000);
        registry.reportLoad("w1", small);
        eventually(10_000, () -> registry.worker("w1").orElseThrow().load().equals(small), () -> "load not published");
        // listeners run after the view changed
        eventually(10_000, () -> events.stream().anyMatch(e -> e instanceof WorkerEvent.Updated u && u.worker().load().equals(small)),
                () -> "no Updated event with the load");
    }

    @Test
    void listenersRunOnTheContextTheyWereAddedFrom() throws Exception {
        Context context = vertx.getOrCreateContext();
        AtomicReference<Context> seenOn = new AtomicReference<>();
        Promise<AutoCloseable> added = Promise.promise();
        context.runOnContext(v -> added.complete(registry.onChange(e -> seenOn.set(Vertx.currentContext()))));
        AutoCloseable subscription = added.future().await();
        registry.register(record("w1", "m")).await();
        eventually(10_000, () -> seenOn.get() != null, () -> "listener not called");
        assertSame(context, seenOn.get());
        subscription.close();
        seenOn.set(null);
        registry.register(record("w2", "m")).await();
        stays(200, () -> seenOn.get() == null, () -> "a closed subscription was called");
    }

    @Test
    void aListenerAddedByAVerticleGoesWithIt() {
        List<WorkerEvent> seen = new CopyOnWriteArrayList<>();
        String deployment = vertx.deployVerticle(new io.vertx.core.VerticleBase() {
            @Override
            public Future<?> start() {
                registry.onChange(seen::add);
                return Future.succeededFuture();
            }
        }).await();
        registry.register(record("w1", "m")).await();
        eventually(10_000, () -> seen.size() == 1, () -> "listener not called: " + seen);
        vertx.undeploy(deployment).await();
        registry.register(record("w2", "m")).await();
        stays(200, () -> seen.size() == 1, () -> "an undeployed verticle's listener was called: " + seen);
    }

    @Test
    void badRecordsAreRefusedWithAReason() {
        assertMessage("no workerId", record("", "m"));
        assertMessage("no model", record("w", " "));
        assertMessage("claims node other", record("w", "m", "other", 0));
        assertTrue(registry.liveWorkers().isEmpty());
    }

    @Test
    void closeDeregistersEverythingAndRefusesMore() {
        registry.register(record("w1", "m")).await();
        registry.register(record("w2", "m")).await();
        registry.close().await();
        assertEquals(List.of(), registry.liveWorkers());
        assertThrows(IllegalStateException.class, () -> registry.register(record("w3", "m")).await());
    }

    @Test
    void closingVertxClosesTheRegistry() {
        registry.register(record("w1", "m")).await();
        vertx.close().await();
        assertEquals(List.of(), registry.liveWorkers(), "closing Vert.x deregistered the worker");
        vertx = Vertx.vertx();
    }

    private void assertMessage(String expected, WorkerRecord r) {
        Throwable e = assertThrows(Throwable.class, () -> registry.register(r).await());
        assertInstanceOf(IllegalArgumentException.class, e instanceof ExecutionException ? e.getCause() : e);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
