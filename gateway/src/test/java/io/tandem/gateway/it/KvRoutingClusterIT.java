package io.tandem.gateway.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * KV-aware routing across processes: three CPU workers and three gateways, each a {@code java -jar … -cluster} JVM.
 * A multi-turn workload through a {@code kv} gateway reaches at least 90 % of the oracle's prefix hit rate and far
 * more than the same workload through a {@code round-robin} gateway; two {@code kv} gateways sharing the workload
 * keep the hit rate and spread the requests; a killed worker leaves the index and gets no more requests.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class KvRoutingClusterIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ProcessCluster.Sample INDEX_ENTRIES = ProcessCluster.Sample.of("tandem_router_kv_index_entries");
    private final ProcessCluster cluster = new ProcessCluster("kv-routing");

    @AfterEach
    void stopAll() throws InterruptedException {
        cluster.close();
    }

    @Test
    void multiTurnConversationsLandWhereTheirPrefixIs() throws Exception {
        List<JarProcess> workers = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            workers.add(cluster.worker("worker-" + i, 0, "--role", "decode", "--threads", "1",
                    "--engine-option", "kv-cache-memory=16MiB"));
        }
        JarProcess gKv = cluster.gateway("gateway-kv", 0, "--router", "kv");
        JarProcess gKv2 = cluster.gateway("gateway-kv2", 0, "--router", "kv");
        JarProcess gRr = cluster.gateway("gateway-rr", 0, "--router", "round-robin");
        int[] workerPorts = new int[3];
        for (int i = 0; i < 3; i++) workerPorts[i] = cluster.awaitPort(workers.get(i), Duration.ofSeconds(120));
        int kvPort = cluster.awaitPort(gKv, Duration.ofSeconds(120)), kv2Port = cluster.awaitPort(gKv2, Duration.ofSeconds(60)),
                rrPort = cluster.awaitPort(gRr, Duration.ofSeconds(60));
        String kv = "http://127.0.0.1:" + kvPort, kv2 = "http://127.0.0.1:" + kv2Port, rr = "http://127.0.0.1:" + rrPort;
        for (String base : List.of(kv, kv2, rr)) {
            cluster.awaitTrue(base + " is ready", Duration.ofSeconds(120), () -> cluster.status(base + "/ready") == 200);
        }
        for (int port : workerPorts) {
            cluster.awaitTrue("worker " + port + " is healthy", Duration.ofSeconds(60),
                    () -> cluster.status("http://127.0.0.1:" + port + "/health") == 200);
        }
        Thread.sleep(2_000); // every gateway's registry view has all three workers
        String model = JSON.readTree(cluster.get(kv + "/v1/models").body()).at("/data/0/id").asText();

        MultiTurnWorkload.run(List.of(kv, kv2, rr), model, 1000, 6, 3); // warm-up: JIT on every JVM on the path
        // 7 conversations on 3 workers: with a multiple of 3 round-robin can keep a conversation on one worker by accident
        MultiTurnWorkload.Result viaKv = MultiTurnWorkload.run(List.of(kv), model, 0, 7, 5);
        MultiTurnWorkload.Result viaRr = MultiTurnWorkload.run(List.of(rr), model, 100, 7, 5);
        // a heavier workload (18 conversations) through one kv gateway, then split over two
        MultiTurnWorkload.Result viaOne = MultiTurnWorkload.run(List.of(kv), model, 400, 18, 5);
        double[] before = served(workerPorts);
        MultiTurnWorkload.Result viaBoth = MultiTurnWorkload.run(List.of(kv, kv2), model, 200, 18, 5);
        double[] after = served(workerPorts);
        double[] share = new double[3];
        double mean = 0, max = 0;
        for (int i = 0; i < 3; i++) {
            share[i] = after[i] - before[i];
            mean += share[i] / 3;
        }
        for (double s : share) max = Math.max(max, s);
        String report = String.format("kv gateway: %s%nround-robin gateway: %s%n18 conversations, one kv gateway: %s%n"
                        + "18 conversations, two kv gateways: %s, requests per worker %s (max/mean %.2f)",
                viaKv, viaRr, viaOne, viaBoth, java.util.Arrays.toString(share), max / mean);
        for (String g : List.of(kv, kv2)) {
            report += "\n" + g + " metrics:\n" + cluster.metricsOf(g).lines()
                    .filter(l -> l.startsWith("tandem_router") && !l.contains("bucket")).collect(java.util.stream.Collectors.joining("\n"));
        }
        System.out.println(report);
        assertTrue(viaKv.hitRate() >= 0.9 * viaKv.oracleHitRate(), report);
        assertTrue(viaRr.hitRate() < 0.7 * viaKv.hitRate(), report);
        // Two gateways keep kv routing's hits: far above round-robin's (0.33-0.43 in docs/ROUTING.md), at 80 % of the oracle
        // or more. Not "within 5 points of one gateway": with 18 conversations on 3 workers the load term moves a few
        // turns off their prefix in either setup, and one gateway alone measured 0.639-0.738 over nine runs
        // (docs/ROUTING.md), so two such figures differed by 0.061 once with nothing wrong (CI, 2026-12-04).
        assertTrue(viaOne.hitRate() >= 0.8 * viaOne.oracleHitRate(), report);
        assertTrue(viaBoth.hitRate() >= 0.8 * viaBoth.oracleHitRate(), report);
        assertTrue(max / mean <= 1.5, "two gateways keep the workers balanced: " + report);

        // A worker dies: its blocks leave the index within the lease, and no request goes to it afterwards.
        double entriesBefore = cluster.metric(kvPort, INDEX_ENTRIES);
        workers.get(2).kill();
        cluster.awaitTrue("the dead worker's blocks leave the index", Duration.ofSeconds(20),
                () -> cluster.metric(kvPort, INDEX_ENTRIES) < entriesBefore, () -> cluster.metricsOf(kv));
        double[] beforeMore = served(new int[] {workerPorts[0], workerPorts[1]});
        MultiTurnWorkload.Result afterKill = MultiTurnWorkload.run(List.of(kv), model, 300, 4, 3);
        double[] afterMore = served(new int[] {workerPorts[0], workerPorts[1]});
        assertEquals(12, (afterMore[0] - beforeMore[0]) + (afterMore[1] - beforeMore[1]),
                "every request after the kill went to a live worker: " + afterKill);
    }

    /**
     * The same comparison on the 124.7 M benchmark model (written into gateway/target at first use), where prefill is
     * a real share of the time to first token. A measurement for docs/ROUTING.md, not part of the suite:
     * {@code ./tandem mvn -pl gateway verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
     * -Dit.test=KvRoutingClusterIT#onTheBenchmarkModel -Dtandem.it.bench=true}.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "tandem.it.bench", matches = "true")
    void onTheBenchmarkModel() throws Exception {
        java.nio.file.Path model = ProcessCluster.ROOT.resolve("gateway/target/bench-q8_0.gguf");
        if (!java.nio.file.Files.exists(model)) {
            io.tandem.engine.bench.BenchModel.write(model, io.tandem.model.gguf.GgufTensorType.Q8_0,
                    ProcessCluster.ROOT.resolve("testdata/models/tiny-llama-spm-f32.gguf"));
        }
        List<JarProcess> workers = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            workers.add(cluster.worker("worker-" + i, 0, "--role", "decode", "--threads", "1", "--model", model.toString(),
                    "--engine-option", "kv-cache-memory=256MiB"));
        }
        JarProcess gKv = cluster.gateway("gateway-kv", 0, "--router", "kv", "--model", model.toString(),
                "--router-load-weight", System.getProperty("tandem.it.loadWeight", "0.35"));
        JarProcess gRr = cluster.gateway("gateway-rr", 0, "--router", "round-robin", "--model", model.toString());
        for (JarProcess w : workers) cluster.awaitPort(w, Duration.ofSeconds(120));
        String kv = "http://127.0.0.1:" + cluster.awaitPort(gKv, Duration.ofSeconds(120));
        String rr = "http://127.0.0.1:" + cluster.awaitPort(gRr, Duration.ofSeconds(60));
        for (String base : List.of(kv, rr)) {
            cluster.awaitTrue(base + " is ready", Duration.ofSeconds(120), () -> cluster.status(base + "/ready") == 200);
        }
        Thread.sleep(3_000);
        String name = JSON.readTree(cluster.get(kv + "/v1/models").body()).at("/data/0/id").asText();
        MultiTurnWorkload.Shape shape = Boolean.getBoolean("tandem.it.document") ? MultiTurnWorkload.Shape.DOCUMENT
                : MultiTurnWorkload.Shape.SHORT;
        MultiTurnWorkload.run(List.of(kv, rr), name, 1000, 4, 2, shape); // warm-up
        int turns = Integer.getInteger("tandem.it.turns", 4);
        MultiTurnWorkload.Result viaKv = MultiTurnWorkload.run(List.of(kv), name, 0, 6, turns, shape);
        MultiTurnWorkload.Result viaRr = MultiTurnWorkload.run(List.of(rr), name, 100, 6, turns, shape);
        System.out.printf("benchmark model: kv gateway: %s%nbenchmark model: round-robin gateway: %s%n", viaKv, viaRr);
    }

    private double[] served(int[] ports) {
        double[] out = new double[ports.length];
        for (int i = 0; i < ports.length; i++) out[i] = cluster.served(ports[i]);
        return out;
    }
}
