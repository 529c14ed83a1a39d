package io.tandem.worker;

import io.tandem.transfer.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.WorkerRole;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.registry.RegistryOptions;
import io.tandem.registry.cluster.ClusterNode;
import io.tandem.registry.cluster.ClusterOptions;
import io.tandem.registry.cluster.HazelcastConfigs;
import io.tandem.registry.cluster.TandemCluster;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The cluster secret in a real (loopback) Hazelcast cluster, one member per worker: a decode worker with the prefill
 * worker's secret gets its long prompt prefilled remotely; one without any secret takes no part in remote prefill
 * (no transfer agent at all) and serves aggregated; one with another secret is refused by the prefill worker's
 * {@code GET /route} challenge, counts the refusal, and prefills locally. Every output equals the aggregated one.
 */
class ClusterSecretTest {
    private static final ClusterSecret SECRET = ClusterSecret.random();
    private static final List<ClusterNode> nodes = new ArrayList<>();
    private static final Map<String, SimpleMeterRegistry> meters = new LinkedHashMap<>();
    private static Vertx local;
    private static DeployedWorker prefill, decode, withoutSecret, wrongSecret, aggregated;

    @BeforeAll
    static void start() throws Exception {
        HazelcastConfigs.LoopbackCluster cluster = HazelcastConfigs.newLoopbackCluster();
        List<Future<ClusterNode>> starting = new ArrayList<>();
        for (int i = 0; i < 4; i++) starting.add(TandemCluster.start(ClusterOptions.loopbackTest(cluster, RegistryOptions.withLease(3_000))));
        for (Future<ClusterNode> f : starting) nodes.add(f.await(90, TimeUnit.SECONDS));
        prefill = deploy(nodes.get(0), "prefill", WorkerRole.PREFILL, new NodeSecurity(SECRET, false, null));
        decode = deploy(nodes.get(1), "decode", WorkerRole.DECODE, new NodeSecurity(SECRET, false, null));
        withoutSecret = deploy(nodes.get(2), "without", WorkerRole.DECODE, NodeSecurity.NONE);
        wrongSecret = deploy(nodes.get(3), "wrong", WorkerRole.DECODE, new NodeSecurity(ClusterSecret.random(), false, null));
        local = Vertx.vertx();
        ProtocolCodecs.registerAll(local.eventBus());
        aggregated = WorkerDeployment.deploy(local, new LocalWorkerRegistry(local), options(WorkerRole.BOTH, NodeSecurity.NONE)
                .withoutHttp(), new SimpleMeterRegistry()).await(60, TimeUnit.SECONDS);
        for (DeployedWorker w : List.of(decode, withoutSecret, wrongSecret)) {
            Await.until(Duration.ofSeconds(30), () -> nodes.get(0).registry().worker(w.workerId()).isPresent()
                            && nodes.get(1).registry().worker(prefill.workerId()).isPresent()
                            && nodes.get(3).registry().worker(prefill.workerId()).isPresent(),
                    () -> "the members do not see each other's workers");
        }
    }

    @AfterAll
    static void stop() throws Exception {
        for (ClusterNode n : nodes) n.close().await(30, TimeUnit.SECONDS);
        if (local != null) local.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void onlyMembersWithTheSecretMoveKv() throws Exception {
        int[] prompt = new Random(3).ints(150, 10, aggregated.engine().info().vocabSize()).toArray();
        int[] expected = generate(local, aggregated, "reference", prompt);

        assertArrayEquals(expected, generate(nodes.get(1).vertx(), decode, "with-secret", prompt));
        assertEquals(1, DisaggregatedWorkersTest.count(meters.get("decode"), "tandem_prefills", "where", "remote"), "prefilled on the prefill worker");

        assertArrayEquals(expected, generate(nodes.get(2).vertx(), withoutSecret, "without-secret", prompt));
        assertNull(withoutSecret.verticle().transferBackend(), "no transfer agent without a secret: aggregated only");
        assertEquals(0, DisaggregatedWorkersTest.count(meters.get("without"), "tandem_prefills", "where", "remote"));

        assertArrayEquals(expected, generate(nodes.get(3).vertx(), wrongSecret, "wrong-secret", prompt));
        assertEquals(1, DisaggregatedWorkersTest.count(meters.get("wrong"), "tandem_prefill_fallbacks", "reason", "unavailable"), "the prefill worker could not authenticate");
        assertEquals(1, meters.get("wrong").find("tandem_transfer_refused_connections").tag("channel", "route")
                .tag("reason", "bad_mac").counter().count(), "the worker with another secret refused the prefill worker's GET /route");
    }

    private static int[] generate(Vertx vertx, DeployedWorker w, String id, int[] prompt) throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), id, true);
        var sampling = new SamplingParams(12, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, -1);
        vertx.eventBus().request(Addresses.generate(w.workerId()), new GenerateRequest(id, null, prompt, sampling, probe.address, 1000))
                .await(10, TimeUnit.SECONDS);
        StreamMessage end = probe.terminal.get(60, TimeUnit.SECONDS);
        assertInstanceOf(StreamMessage.Finished.class, end, id + ": " + end);
        probe.close();
        return probe.tokens();
    }

    private static DeployedWorker deploy(ClusterNode node, String name, WorkerRole role, NodeSecurity security) throws Exception {
        SimpleMeterRegistry m = new SimpleMeterRegistry();
        meters.put(name, m);
        return WorkerDeployment.deploy(node.vertx(), node.registry(), options(role, security).withHttp("127.0.0.1", 0), m)
                .await(60, TimeUnit.SECONDS);
    }

    private static WorkerOptions options(WorkerRole role, NodeSecurity security) {
        Path model = DisaggregatedWorkersTest.model("tandem-fortune-5m-f32");
        return WorkerOptions.defaults(role).withModelPath(model)
                .withEngine("cpu", new LinkedHashMap<>(Map.of("threads", 1, "kv-cache-memory", "16MiB")))
                .withDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer("tcp").withMaxLocalPrefillTokens(16))
                .withSecurity(security);
    }
}
