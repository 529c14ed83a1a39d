package io.tandem.worker;

import io.tandem.transfer.Await;
import io.tandem.transfer.BackendAvailability;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prefill worker and a decode worker in one JVM, the prompt's KV moved over a real transfer backend between two
 * agents: outputs equal an aggregated worker's (greedy tokens identical, logprobs within 1e-5), for short prompts
 * (prefilled locally), long ones over many blocks, prompts that hit either worker's prefix cache, all at once; every
 * failure of the remote path ends in a local prefill with the same output; blocks return to the pool on both sides.
 */
class DisaggregatedWorkersTest {
    private static final double TOLERANCE = 1e-5;
    private final Vertx vertx = Vertx.vertx();
    private final List<DeployedWorker> deployed = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (DeployedWorker w : deployed) w.undeploy(vertx).await(20, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "{1} over {0}")
    @CsvSource({"tcp, tandem-fortune-5m-f32", "shm, tandem-fortune-5m-f32", "ucx, tandem-fortune-5m-f32", "nixl, tandem-fortune-5m-f32",
            "tcp, tiny-llama-spm-f32", "shm, tiny-llama-spm-f32", "ucx, tiny-llama-spm-f32", "nixl, tiny-llama-spm-f32"})
    void disaggregatedEqualsAggregated(String backend, String model) throws Exception {
        assumeAvailable(backend);
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path path = model(model);
        SimpleMeterRegistry decodeMeters = new SimpleMeterRegistry(), prefillMeters = new SimpleMeterRegistry();
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, path, backend, 8, prefillMeters, Map.of());
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, path, backend, 8, decodeMeters, Map.of());
        DeployedWorker otherDecode = deploy(cluster, WorkerRole.DECODE, path, backend, 8, new SimpleMeterRegistry(), Map.of());
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, path, backend, 8, new SimpleMeterRegistry(), Map.of());

        Map<String, int[]> prompts = prompts(prefill);
        var expected = run(aggregated, prompts, true);
        // through another decode worker: the prefill worker caches "long", this decode worker does not
        run(otherDecode, Map.of("warm", prompts.get("long")), true);
        var actual = run(decode, prompts, true);
        assertSameOutputs(expected, actual);

        assertEquals(prompts.size() - 1, count(decodeMeters, "tandem_prefills", "where", "remote"), "every prompt over the threshold went remote");
        assertEquals(1, count(decodeMeters, "tandem_prefills", "where", "local"), "the short prompt was prefilled locally");
        assertEquals(0, decodeMeters.find("tandem_prefill_fallbacks").counters().size(), "no fallback");
        assertTrue(count(prefillMeters, "tandem_transfer_bytes", "backend", backend) > 0, "the " + backend + " backend carried the KV");
        awaitAllBlocksFree(prefill, decode, otherDecode);
    }

    @Test
    void aFullPrefillQueueFallsBackToLocalPrefillWithTheSameOutput() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path path = model("tandem-fortune-5m-f32");
        SimpleMeterRegistry decodeMeters = new SimpleMeterRegistry();
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, path, "tcp", 1, new SimpleMeterRegistry(), Map.of());
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, path, "tcp", 1, decodeMeters, Map.of());
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, path, "tcp", 8, new SimpleMeterRegistry(), Map.of());
        Map<String, int[]> prompts = prompts(prefill);
        prompts.remove("short");
        assertSameOutputs(run(aggregated, prompts, true), run(decode, prompts, true));
        assertTrue(count(decodeMeters, "tandem_prefill_fallbacks", "reason", "queue_full") >= 1, "some prefills found the queue full");
        awaitAllBlocksFree(prefill, decode);
    }

    @Test
    void aLayoutMismatchIsRefusedAndServedLocally() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path path = model("tandem-fortune-5m-f32");
        SimpleMeterRegistry decodeMeters = new SimpleMeterRegistry();
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, path, "tcp", 8, new SimpleMeterRegistry(), Map.of("kv-dtype", "f16"));
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, path, "tcp", 8, decodeMeters, Map.of());
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, path, "tcp", 8, new SimpleMeterRegistry(), Map.of());
        Map<String, int[]> prompts = Map.of("long", prompts(prefill).get("long"));
        assertSameOutputs(run(aggregated, prompts, true), run(decode, prompts, true));
        // the prefill worker's contract (kv dtype f16) rules it out before anything is sent
        assertEquals(1, count(decodeMeters, "tandem_prefill_fallbacks", "reason", "contract_mismatch"), "the mismatch was refused");
        awaitAllBlocksFree(prefill, decode);
    }

    /**
     * The registry's record of the decode worker names another start (epoch) than the worker that asks: the prefill
     * worker reaches a worker that is not the one the registry describes, so it refuses to write, logs and counts the
     * mismatch, and the decode worker prefills locally with the same output.
     */
    @Test
    void aPeerOfAnotherEpochIsRefusedAndServedLocally() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path path = model("tandem-fortune-5m-f32");
        SimpleMeterRegistry decodeMeters = new SimpleMeterRegistry(), prefillMeters = new SimpleMeterRegistry();
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, path, "tcp", 8, prefillMeters, Map.of());
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, path, "tcp", 8, decodeMeters, Map.of());
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, path, "tcp", 8, new SimpleMeterRegistry(), Map.of());
        WorkerRecord r = decode.record();
        cluster.register(new WorkerRecord(r.workerId(), r.role(), r.model(), r.nodeId(), r.host(), r.httpPort(), r.maxContext(),
                r.load(), System.currentTimeMillis(), r.epoch() + 1, r.contract(), r.registeredMillis())).await(10, TimeUnit.SECONDS);
        Map<String, int[]> prompts = Map.of("long", prompts(prefill).get("long"));
        assertSameOutputs(run(aggregated, prompts, true), run(decode, prompts, true));
        assertEquals(1, count(decodeMeters, "tandem_prefill_fallbacks", "reason", "peer_refused"), "the decode worker prefilled locally");
        assertEquals(1, count(prefillMeters, "tandem_transfer_peer_mismatches", "worker", prefill.workerId()), "the prefill worker counted it");
        assertEquals(0, count(prefillMeters, "tandem_transfer_bytes", "backend", "tcp"), "not a byte was written");
        awaitAllBlocksFree(prefill, decode);
    }

    @Test
    void cancelsDuringRemotePrefillFreeTheBlocksOnBothWorkers() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path path = model("tandem-fortune-5m-f32");
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        // chunks of 16 tokens: each prefill takes many steps, so cancels land while the prefill worker computes
        Map<String, Object> slow = Map.of("max-num-batched-tokens", 16);
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, path, "tcp", 8, new SimpleMeterRegistry(), slow);
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, path, "tcp", 8, new SimpleMeterRegistry(), slow);
        Random random = new Random(11);
        List<StreamProbe> probes = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String id = "cancel-" + i;
            StreamProbe probe = StreamProbe.open(vertx, decode.workerId(), id, true);
            probes.add(probe);
            var sampling = new SamplingParams(24, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, -1);
            vertx.eventBus().request(Addresses.generate(decode.workerId()), new GenerateRequest(id, null,
                    random.ints(200, 10, decode.engine().info().vocabSize()).toArray(), sampling, probe.address, 1000))
                    .await(10, TimeUnit.SECONDS);
        }
        awaitTrue(() -> prefill.engine().activeRequests() > 0, "the prefill worker is computing");
        for (StreamProbe p : probes) p.cancel("client went away");
        for (StreamProbe p : probes) {
            StreamMessage end = p.terminal.get(30, TimeUnit.SECONDS);
            assertInstanceOf(StreamMessage.Finished.class, end);
            p.close();
        }
        awaitAllBlocksFree(prefill, decode);
        // both workers still serve, with the right output
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, path, "tcp", 8, new SimpleMeterRegistry(), Map.of());
        Map<String, int[]> prompts = prompts(prefill);
        assertSameOutputs(run(aggregated, prompts, true), run(decode, prompts, true));
    }

    @Test
    void aPrefillWorkerShuttingDownFinishesThePrefillsItHolds() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path path = model("tandem-fortune-5m-f32");
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        SimpleMeterRegistry decodeMeters = new SimpleMeterRegistry();
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, path, "tcp", 8, new SimpleMeterRegistry(),
                Map.of("max-num-batched-tokens", 16));
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, path, "tcp", 8, decodeMeters, Map.of());
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, path, "tcp", 8, new SimpleMeterRegistry(), Map.of());
        Random random = new Random(21);
        Map<String, int[]> prompts = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) prompts.put("p" + i, random.ints(200, 10, decode.engine().info().vocabSize()).toArray());
        var expected = run(aggregated, prompts, true);

        var pending = new java.util.concurrent.CompletableFuture<Map<String, Output>>();
        Thread.ofPlatform().start(() -> {
            try {
                pending.complete(run(decode, prompts, true));
            } catch (Throwable t) {
                pending.completeExceptionally(t);
            }
        });
        awaitTrue(() -> prefill.engine().activeRequests() > 0, "the prefill worker is computing");
        int held = prefill.engine().activeRequests();
        deployed.remove(prefill);
        prefill.undeploy(vertx).await(30, TimeUnit.SECONDS); // deregisters, drains, then closes its engine
        assertSameOutputs(expected, pending.get(60, TimeUnit.SECONDS));
        double remote = count(decodeMeters, "tandem_prefills", "where", "remote");
        // fallbacks after sending (a request the stopped worker no longer took); "no_prefill_worker" never was sent
        double sentButFellBack = decodeMeters.find("tandem_prefill_fallbacks").counters().stream()
                .filter(c -> !"no_prefill_worker".equals(c.getId().getTag("reason"))).mapToDouble(c -> c.count()).sum();
        assertTrue(remote - sentButFellBack >= held, "the " + held + " prefills it held finished remotely (remote " + remote
                + ", fallbacks after sending " + sentButFellBack + ")");
        awaitAllBlocksFree(decode);
    }

    /** Polls until {@code condition} holds, at most 20 s. */
    static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        Await.until(condition, what);
    }

    // ---- helpers ----

    private DeployedWorker deploy(LocalWorkerRegistry registry, WorkerRole role, Path model, String backend, int queue,
                                  MeterRegistry meters, Map<String, Object> engine) throws Exception {
        Map<String, Object> options = new LinkedHashMap<>(Map.of("threads", 1, "kv-cache-memory", "16MiB"));
        options.putAll(engine);
        WorkerOptions o = WorkerOptions.defaults(role).withModelPath(model).withEngine("cpu", options).withoutHttp()
                .withDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer(backend).withMaxLocalPrefillTokens(16)
                        .withMaxPrefillQueue(queue).withPrefillTimeoutMillis(20_000));
        DeployedWorker w = WorkerDeployment.deploy(vertx, registry, o, meters).await(60, TimeUnit.SECONDS);
        deployed.add(w);
        return w;
    }

    /** Skips (printing why) when ucx or nixl cannot run here; with TANDEM_REQUIRE_NIXL=1 a missing nixl fails instead. */
    static void assumeAvailable(String backend) {
        var why = BackendAvailability.unavailable(backend);
        Assumptions.assumeTrue(why.isEmpty(), () -> backend + ": " + why.orElse(""));
    }

    static Path model(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("testdata/models/" + name + ".gguf");
            if (Files.isRegularFile(p)) return p;
        }
        throw new IllegalStateException("testdata/models/" + name + ".gguf not found");
    }

    /** A short prompt, long ones of many blocks, and a next turn that extends the long one. */
    private static Map<String, int[]> prompts(DeployedWorker w) {
        Random random = new Random(7);
        int vocab = w.engine().info().vocabSize();
        Map<String, int[]> out = new LinkedHashMap<>();
        out.put("short", random.ints(9, 10, vocab).toArray());
        int[] longPrompt = random.ints(100, 10, vocab).toArray();
        out.put("long", longPrompt);
        out.put("many-blocks", random.ints(190, 10, vocab).toArray());
        out.put("next-turn", IntStream.concat(IntStream.of(longPrompt), random.ints(40, 10, vocab)).toArray());
        out.put("mid-block", random.ints(37, 10, vocab).toArray());
        return out;
    }

    private record Output(int[] tokens, List<TokenLogprobs> logprobs) {
    }

    /** Sends every prompt at once to {@code w}, greedy with logprobs, and collects each stream. */
    private Map<String, Output> run(DeployedWorker w, Map<String, int[]> prompts, boolean check) throws Exception {
        Map<String, StreamProbe> probes = new LinkedHashMap<>();
        for (var e : prompts.entrySet()) {
            String id = e.getKey() + "-" + w.workerId() + "-" + System.nanoTime();
            StreamProbe probe = StreamProbe.open(vertx, w.workerId(), id, true);
            probes.put(e.getKey(), probe);
            var sampling = new SamplingParams(24, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, 5);
            vertx.eventBus().request(Addresses.generate(w.workerId()),
                    new GenerateRequest(id, null, e.getValue(), sampling, probe.address, 1000)).await(10, TimeUnit.SECONDS);
        }
        Map<String, Output> out = new LinkedHashMap<>();
        for (var e : probes.entrySet()) {
            StreamMessage end = e.getValue().terminal.get(60, TimeUnit.SECONDS);
            if (check) assertInstanceOf(StreamMessage.Finished.class, end, e.getKey() + ": " + end);
            out.put(e.getKey(), new Output(e.getValue().tokens(), e.getValue().logprobs()));
            e.getValue().close();
        }
        return out;
    }

    private static void assertSameOutputs(Map<String, Output> expected, Map<String, Output> actual) {
        for (String name : expected.keySet()) {
            Output e = expected.get(name), a = actual.get(name);
            assertArrayEquals(e.tokens(), a.tokens(), name + ": tokens");
            for (int i = 0; i < e.logprobs().size(); i++) {
                TokenLogprobs el = e.logprobs().get(i), al = a.logprobs().get(i);
                assertEquals(el.logprob(), al.logprob(), TOLERANCE, name + ": logprob of token " + i);
                assertArrayEquals(el.topTokens(), al.topTokens(), name + ": top tokens at " + i);
                for (int k = 0; k < el.topLogprobs().length; k++) {
                    assertEquals(el.topLogprobs()[k], al.topLogprobs()[k], TOLERANCE, name + ": top logprob " + k + " at " + i);
                }
            }
        }
    }

    /** A counter's count, 0 when it was never registered. */
    static double count(MeterRegistry meters, String name, String tag, String value) {
        var c = meters.find(name).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }

    private static void awaitAllBlocksFree(DeployedWorker... workers) {
        for (DeployedWorker w : workers) {
            Await.until(Await.DEFAULT, () -> w.engine().load().activeBlocks() == 0 && w.engine().activeRequests() == 0,
                    () -> w.workerId() + " still holds " + w.engine().load());
        }
    }
}
