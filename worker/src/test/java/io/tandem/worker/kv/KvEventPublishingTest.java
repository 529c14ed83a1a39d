package io.tandem.worker.kv;

import io.tandem.transfer.Await;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerRole;
import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.registry.kv.KvIndex;
import io.tandem.registry.kv.KvIndexFeed;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A CPU worker's KV events reach the event bus in sequence, its snapshot reaches the registry, and a
 * resync request makes it publish a snapshot batch that rebuilds an index exactly.
 */
class KvEventPublishingTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void eventsSnapshotsAndResync() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        List<KvEventBatch> seen = new CopyOnWriteArrayList<>();
        vertx.eventBus().<KvEventBatch>consumer(Addresses.KV_EVENTS, m -> seen.add(m.body())).completion().await(5, TimeUnit.SECONDS);
        LocalWorkerRegistry registry = new LocalWorkerRegistry(vertx);
        DeployedWorker w = WorkerDeployment.deploy(vertx, registry, WorkerOptions.defaults(WorkerRole.BOTH)
                .withEngine("cpu", Map.of("threads", 1, "kv-cache-memory", "8MiB")).withoutHttp()).await(30, TimeUnit.SECONDS);

        int[] prompt = IntStream.range(10, 10 + 40).toArray(); // 2 full blocks, then generated tokens fill a third
        CompletableFuture<Usage> done = new CompletableFuture<>();
        w.engine().submit(new EngineRequest("r1", prompt, new SamplingParams(12, 0f, 1f, 0, 0f, null, 0f, 0f, null, true, -1)), new TokenSink() {
            public void onToken(int token, TokenLogprobs lp) {
            }

            public void onFinished(FinishReason reason, Usage usage) {
                done.complete(usage);
            }

            public void onFailed(ErrorCode code, String message) {
                done.completeExceptionally(new AssertionError(message));
            }
        });
        done.get(20, TimeUnit.SECONDS);

        // the registry receives the snapshot a starting gateway would load
        waitUntil(() -> {
            try {
                return registry.kvSnapshots().all().await(5, TimeUnit.SECONDS).stream()
                        .anyMatch(s -> s.workerId().equals(w.workerId()) && s.events().size() == 1 + 3); // clear + 3 blocks
            } catch (Exception e) {
                return false;
            }
        });

        // (the snapshot is written after the batches it covers were published: they have all arrived by now)
        KvIndex index = new KvIndex();
        KvIndexFeed feed = new KvIndexFeed(index, id -> {}, 0);
        for (KvEventBatch b : seen) assertTrue(feed.onBatch(b) != KvIndexFeed.Outcome.GAP, "batches arrive in sequence");
        long[] held = index.blocksOf(w.workerId());
        assertEquals(3, held.length, "40 prompt tokens and 11 computed answer tokens fill 3 blocks: " + seen);

        // a router that missed batches asks for a resync: the answer rebuilds an empty index exactly
        int before = seen.size();
        vertx.eventBus().request(Addresses.kvResync(w.workerId()), null).await(5, TimeUnit.SECONDS);
        waitUntil(() -> seen.size() > before);
        KvEventBatch snapshot = seen.get(before);
        assertInstanceOf(KvEvent.AllBlocksCleared.class, snapshot.events().getFirst());
        KvIndex fresh = new KvIndex();
        assertEquals(KvIndexFeed.Outcome.SNAPSHOT, new KvIndexFeed(fresh, id -> {}, 0).onBatch(snapshot));
        long[] rebuilt = fresh.blocksOf(w.workerId());
        java.util.Arrays.sort(held);
        java.util.Arrays.sort(rebuilt);
        assertArrayEquals(held, rebuilt);
        w.undeploy(vertx).await(10, TimeUnit.SECONDS);
        registry.close().await(5, TimeUnit.SECONDS);
    }

    private static void waitUntil(java.util.function.BooleanSupplier c) {
        io.tandem.transfer.Await.until(c, "the condition");
    }
}
