package io.tandem.worker;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.engine.cpu.CpuEngine;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.tandem.worker.disagg.PrefillFaults;
import io.tandem.worker.engine.ModelEngines;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Fencing: a prefill worker held past the decode worker's timeout (and whose cancel is lost) computes the prompt
 * anyway and writes its KV late, into blocks the decode worker has meanwhile given to another request. The decode
 * worker's agent drops every such write (its fencing token was revoked when the timeout fired) and counts it; the
 * timed-out request was prefilled locally and the request now holding the blocks both give exactly the aggregated
 * output. The decode worker's cache holds one request, so the second one necessarily gets the first one's blocks.
 */
class LateWriteFencingTest {
    private static final int PROMPT = 150, MAX_TOKENS = 10;
    private final Vertx vertx = Vertx.vertx();
    private final List<DeployedWorker> deployed = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (DeployedWorker w : deployed) w.undeploy(vertx).await(40, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "over {0}")
    @ValueSource(strings = {"tcp", "shm", "ucx", "nixl"})
    void aLateWriteIntoReusedBlocksIsDroppedAndBothOutputsStayRight(String backend) throws Exception {
        DisaggregatedWorkersTest.assumeAvailable(backend);
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path model = DisaggregatedWorkersTest.model("tandem-fortune-5m-f32");
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, model, backend, "16MiB",
                new SimpleMeterRegistry(), PrefillFaults.NONE);
        long blockBytes = ((CpuEngine) aggregated.engine()).kvLayout().bytesPerBlockAcrossLayers();
        int blocks = (PROMPT + MAX_TOKENS + 15) / 16;

        CompletableFuture<Void> held = new CompletableFuture<>(), release = new CompletableFuture<>();
        PrefillFaults holdTheFirst = new PrefillFaults() {
            @Override
            public CompletionStage<Void> beforePrefill(String requestId) {
                if (!requestId.equals("first")) return CompletableFuture.completedFuture(null);
                held.complete(null);
                return release;
            }

            @Override
            public boolean loseCancel(String requestId) {
                return requestId.equals("first");
            }
        };
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, model, backend, "16MiB", new SimpleMeterRegistry(), holdTheFirst);
        SimpleMeterRegistry decodeMeters = new SimpleMeterRegistry();
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, model, backend, String.valueOf(blocks * blockBytes),
                decodeMeters, PrefillFaults.NONE);
        assertEquals(blocks, ((CpuEngine) decode.engine()).kvLayout().numBlocks(), "the decode cache holds one request");

        Random random = new Random(17);
        int vocab = decode.engine().info().vocabSize();
        int[] first = random.ints(PROMPT, 10, vocab).toArray(), second = random.ints(PROMPT, 10, vocab).toArray();
        int[] expectedFirst = generate(aggregated, "ref-first", first, Integer.MAX_VALUE).finish();
        int[] expectedSecond = generate(aggregated, "ref-second", second, Integer.MAX_VALUE).finish();

        // the first request goes remote; its prefill worker is held until the decode worker times out and prefills locally
        Generation a = generate(decode, "first", first, Integer.MAX_VALUE);
        held.get(20, TimeUnit.SECONDS);
        assertArrayEquals(expectedFirst, a.finish(), "the timed-out request, prefilled locally");
        assertEquals(1, DisaggregatedWorkersTest.count(decodeMeters, "tandem_prefill_fallbacks", "reason", "timeout"));

        // the second request takes every block (the cache holds one), is prefilled remotely, and pauses holding them
        Generation b = generate(decode, "second", second, 1);
        b.probe().awaitTokens(1);
        assertEquals(2, DisaggregatedWorkersTest.count(decodeMeters, "tandem_prefills", "where", "remote"), "both went remote; the second one was served");
        assertEquals(blocks, decode.engine().load().activeBlocks(), "the second request holds every block, the first one's included");

        // now the held prefill computes the first prompt and writes its KV into those blocks, with the revoked token
        release.complete(null);
        DisaggregatedWorkersTest.awaitTrue(() -> fenced(decodeMeters) >= 1, "the decode worker dropped the late writes");
        b.probe().grant(1_000);
        assertArrayEquals(expectedSecond, b.finish(), "the request holding the blocks is untouched by the late writes");
        DisaggregatedWorkersTest.awaitTrue(() -> prefill.engine().activeRequests() == 0 && prefill.engine().load().activeBlocks() == 0
                && decode.engine().activeRequests() == 0 && decode.engine().load().activeBlocks() == 0, "every block is free");
        System.out.println(backend + ": " + fenced(decodeMeters) + " late writes fenced");
    }

    private record Generation(StreamProbe probe) {
        int[] finish() throws Exception {
            StreamMessage end = probe.terminal.get(60, TimeUnit.SECONDS);
            assertInstanceOf(StreamMessage.Finished.class, end, probe.requestId + ": " + end);
            probe.close();
            return probe.tokens();
        }
    }

    /** A greedy request of {@code MAX_TOKENS} with {@code credits} initial credits (more are granted only when unlimited). */
    private Generation generate(DeployedWorker w, String id, int[] prompt, int credits) throws Exception {
        boolean unlimited = credits == Integer.MAX_VALUE;
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), id, unlimited);
        var sampling = new SamplingParams(MAX_TOKENS, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, -1);
        vertx.eventBus().request(Addresses.generate(w.workerId()),
                new GenerateRequest(id, null, prompt, sampling, probe.address, unlimited ? 1000 : credits)).await(10, TimeUnit.SECONDS);
        return new Generation(probe);
    }

    private DeployedWorker deploy(LocalWorkerRegistry registry, WorkerRole role, Path model, String backend, String kvMemory,
                                  MeterRegistry meters, PrefillFaults faults) throws Exception {
        Map<String, Object> engine = new LinkedHashMap<>(Map.of("threads", 1, "kv-cache-memory", kvMemory));
        WorkerOptions o = WorkerOptions.defaults(role).withModelPath(model).withEngine("cpu", engine).withoutHttp()
                .withDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer(backend).withMaxLocalPrefillTokens(16)
                        .withPrefillTimeoutMillis(1_000));
        DeployedWorker w = WorkerDeployment.deploy(vertx, registry, o, meters, new ModelEngines(), faults).await(60, TimeUnit.SECONDS);
        deployed.add(w);
        return w;
    }

    private static double fenced(MeterRegistry meters) {
        FunctionCounter c = meters.find("tandem_transfer_fenced").functionCounter();
        return c == null ? 0 : c.count();
    }
}
