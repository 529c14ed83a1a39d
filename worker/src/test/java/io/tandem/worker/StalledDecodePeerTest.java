package io.tandem.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.engine.cpu.CpuEngine;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.RemotePrefillMessage;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.WorkerRole;
import io.tandem.engine.kv.KvLayout;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.transfer.AgentIdentity;
import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.Relay;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferAgents;
import io.tandem.transfer.TransferConfig;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.tandem.worker.disagg.KvBootstrap;
import io.tandem.worker.disagg.PrefillFaults;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prefill worker whose KV sends to one decode peer stall (the peer stops answering in the middle of the transfer)
 * still serves another decode worker's remote prefill: that request is prefilled remotely, with the aggregated output
 * and no fallback, while the stalled request still waits for its sends. When the stalled peer's connection dies its
 * sends fail, the prefill worker answers that request with the failure and frees its blocks.
 *
 * <p>The stalled peer is a real transfer agent registered as a decode worker (its bootstrap states the real decode
 * worker's KV layout, its own identity and epoch, so the prefill worker's checks and handshake pass), reached through
 * a {@link Relay} that the test silences once the prefill worker has loaded it: from then on nothing it sends is
 * answered.
 */
class StalledDecodePeerTest {
    private static final long PREFILL_TIMEOUT_MILLIS = 30_000;
    private final Vertx vertx = Vertx.vertx();
    private final List<DeployedWorker> deployed = new ArrayList<>();
    private TransferAgent stalledAgent;
    private Relay relay;

    @AfterEach
    void tearDown() throws Exception {
        if (relay != null) relay.close();
        for (DeployedWorker w : deployed) w.undeploy(vertx).await(40, TimeUnit.SECONDS);
        if (stalledAgent != null) vertx.executeBlocking(() -> {
            stalledAgent.close();
            return null;
        }).await(20, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void aStalledDecodePeerDoesNotHoldUpAnotherRequestsRemotePrefill() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        Path path = DisaggregatedWorkersTest.model("tandem-fortune-5m-f32");
        SimpleMeterRegistry decodeMeters = new SimpleMeterRegistry();
        LocalWorkerRegistry cluster = new LocalWorkerRegistry(vertx);
        CompletableFuture<Void> hold = new CompletableFuture<>();
        CompletableFuture<Void> held = new CompletableFuture<>();
        PrefillFaults holdTheStalledOne = requestId -> {
            if (!requestId.equals("stalled")) return CompletableFuture.completedFuture(null);
            held.complete(null);
            return hold;
        };
        DeployedWorker prefill = deploy(cluster, WorkerRole.PREFILL, path, new SimpleMeterRegistry(), holdTheStalledOne);
        DeployedWorker decode = deploy(cluster, WorkerRole.DECODE, path, decodeMeters, PrefillFaults.NONE);
        DeployedWorker aggregated = deploy(new LocalWorkerRegistry(vertx), WorkerRole.BOTH, path, new SimpleMeterRegistry(),
                PrefillFaults.NONE);
        long epoch = WorkerRecord.newEpoch();
        String peer = startStalledPeer(cluster, decode, epoch);

        Random random = new Random(5);
        int vocab = decode.engine().info().vocabSize();
        int[] stalledPrompt = random.ints(200, 10, vocab).toArray();
        var sampling = new SamplingParams(24, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, 5);
        Future<Message<Object>> stalledReply = vertx.eventBus().request(Addresses.prefill(prefill.workerId()),
                new RemotePrefillMessage.Request("stalled", stalledPrompt, sampling, peer,
                        IntStream.range(0, (stalledPrompt.length + 15) / 16).toArray(), 0, epoch, 1),
                new DeliveryOptions().setSendTimeout(3 * PREFILL_TIMEOUT_MILLIS));
        held.get(20, TimeUnit.SECONDS); // the prefill worker loaded the peer (handshake done) and waits to compute
        relay.silence();
        hold.complete(null);
        CpuEngine prefillEngine = (CpuEngine) prefill.engine();
        DisaggregatedWorkersTest.awaitTrue(() -> prefillEngine.stats().sending() == 1, "the prefill worker computed the stalled prompt and waits for its sends");

        Map<String, int[]> prompts = Map.of("long", random.ints(190, 10, vocab).toArray());
        var expected = run(aggregated, prompts);
        long started = System.nanoTime();
        var actual = run(decode, prompts);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        System.out.println("remote prefill + 24 tokens beside a stalled peer: " + millis + " ms");
        assertTrue(millis < PREFILL_TIMEOUT_MILLIS / 3, "served at normal speed, not after the stalled sends' timeout: " + millis + " ms");
        assertArrayEquals(expected.get("long"), actual.get("long"), "the same output as aggregated");
        assertEquals(1, DisaggregatedWorkersTest.count(decodeMeters, "tandem_prefills", "where", "remote"), "prefilled by the prefill worker");
        assertEquals(0, decodeMeters.find("tandem_prefill_fallbacks").counters().size(), "no fallback, no timeout");
        assertFalse(stalledReply.isComplete(), "meanwhile the stalled request still waits for its sends");
        assertEquals(1, prefillEngine.stats().sending());
        assertTrue(prefillEngine.load().activeBlocks() > 0, "its blocks are held while its sends may read them");

        relay.close(); // the peer dies: its pending WRITEs fail
        relay = null;
        Throwable failure = stalledReply.toCompletionStage().toCompletableFuture()
                .handle((m, e) -> e).get(20, TimeUnit.SECONDS);
        assertTrue(failure != null && failure.getMessage().contains("KV transfer"), "the stalled request failed: " + failure);
        DisaggregatedWorkersTest.awaitTrue(() -> prefillEngine.load().activeBlocks() == 0 && prefillEngine.activeRequests() == 0,
                "the prefill worker freed the failed request's blocks");
    }

    /**
     * A decode peer of its own: a real agent with the decode worker's KV layout, registered under its own worker id and
     * epoch, whose bootstrap leads to a relay in front of it. Returns its worker id.
     */
    private String startStalledPeer(LocalWorkerRegistry registry, DeployedWorker like, long epoch) throws Exception {
        String id = "stalled-peer";
        KvLayout layout = ((CpuEngine) like.engine()).kvLayout();
        stalledAgent = TransferAgents.open(vertx, TransferConfig.of("tcp", id + "-agent")
                .withIdentity(new AgentIdentity(id, registry.nodeId(), epoch))).await(20, TimeUnit.SECONDS);
        int[][] regions = new int[layout.layers()][2];
        for (int l = 0; l < layout.layers(); l++) {
            regions[l][0] = stalledAgent.register("L" + l + "K", layout.arenaBytes()).id();
            regions[l][1] = stalledAgent.register("L" + l + "V", layout.arenaBytes()).id();
        }
        AgentMetadata metadata = stalledAgent.metadata();
        relay = Relay.to(vertx, metadata.controlPort());
        KvBootstrap boot = new KvBootstrap(id, "tcp", metadata.withControlAddress("127.0.0.1", relay.port()), layout, regions);
        vertx.eventBus().consumer(Addresses.bootstrap(id), m -> m.reply(boot.toJson())).completion().await(10, TimeUnit.SECONDS);
        WorkerRecord r = like.record();
        registry.register(new WorkerRecord(id, WorkerRole.DECODE, r.model(), registry.nodeId(), "127.0.0.1", 0, r.maxContext(),
                r.load(), System.currentTimeMillis(), epoch, r.contract(), 0)).await(10, TimeUnit.SECONDS);
        return id;
    }

    private DeployedWorker deploy(LocalWorkerRegistry registry, WorkerRole role, Path model, MeterRegistry meters,
                                  PrefillFaults faults) throws Exception {
        Map<String, Object> engine = new LinkedHashMap<>(Map.of("threads", 1, "kv-cache-memory", "16MiB"));
        WorkerOptions o = WorkerOptions.defaults(role).withModelPath(model).withEngine("cpu", engine).withoutHttp()
                .withDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer("tcp").withMaxLocalPrefillTokens(16)
                        .withMaxPrefillQueue(8).withPrefillTimeoutMillis(PREFILL_TIMEOUT_MILLIS));
        DeployedWorker w = WorkerDeployment.deploy(vertx, registry, o, meters, new io.tandem.worker.engine.ModelEngines(), faults)
                .await(60, TimeUnit.SECONDS);
        deployed.add(w);
        return w;
    }

    /** Sends every prompt to {@code w}, greedy, and collects each stream's tokens. */
    private Map<String, int[]> run(DeployedWorker w, Map<String, int[]> prompts) throws Exception {
        Map<String, StreamProbe> probes = new LinkedHashMap<>();
        for (var e : prompts.entrySet()) {
            String id = e.getKey() + "-" + w.workerId() + "-" + System.nanoTime();
            StreamProbe probe = StreamProbe.open(vertx, w.workerId(), id, true);
            probes.put(e.getKey(), probe);
            var sampling = new SamplingParams(24, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, -1);
            vertx.eventBus().request(Addresses.generate(w.workerId()),
                    new GenerateRequest(id, null, e.getValue(), sampling, probe.address, 1000)).await(10, TimeUnit.SECONDS);
        }
        Map<String, int[]> out = new LinkedHashMap<>();
        for (var e : probes.entrySet()) {
            StreamMessage end = e.getValue().terminal.get(60, TimeUnit.SECONDS);
            assertInstanceOf(StreamMessage.Finished.class, end, e.getKey() + ": " + end);
            out.put(e.getKey(), e.getValue().tokens());
            e.getValue().close();
        }
        return out;
    }
}
