package io.tandem.gateway.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL one of two gateways under load (two gateways and one aggregated worker, {@code java -jar … -cluster}, the
 * CPU engine). A gateway holds its clients' HTTP connections and the stream state, so nothing can carry them over:
 * <b>the requests in flight on the killed gateway fail</b> (their connection drops), and only those — what it served
 * before the kill succeeded. The other gateway serves on: every request through it succeeds, during and after the
 * kill, with the tokens of the no-fault run. The worker notices that the dead gateway's streams have no consumer and
 * frees them: it ends holding no stream and no KV block.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayKillIT {
    private static final int MAX_TOKENS = 200;
    private final ProcessCluster cluster = new ProcessCluster("gateway-kill");
    private final StreamLoad load = new StreamLoad(Duration.ofSeconds(90));

    @AfterEach
    void stopAll() throws InterruptedException {
        load.close();
        cluster.close();
    }

    @Test
    void onlyTheKilledGatewaysInFlightRequestsFailAndTheOtherServesOn() throws Exception {
        long t0 = System.nanoTime();
        JarProcess worker = cluster.worker("worker", 0, Chaos.cpuEngine(Chaos.TINY_LLAMA));
        JarProcess victim = cluster.gateway("gateway-a", 0, "--model", Chaos.TINY_LLAMA.toString());
        JarProcess survivor = cluster.gateway("gateway-b", 0, "--model", Chaos.TINY_LLAMA.toString());
        int workerPort = cluster.awaitPort(worker, Duration.ofSeconds(120));
        String a = "http://127.0.0.1:" + cluster.awaitPort(victim, Duration.ofSeconds(120));
        String b = "http://127.0.0.1:" + cluster.awaitPort(survivor, Duration.ofSeconds(120));
        String workerBase = "http://127.0.0.1:" + workerPort;
        for (String gw : List.of(a, b)) {
            cluster.awaitTrue(gw + " is ready", Duration.ofSeconds(90), () -> cluster.status(gw + "/ready") == 200);
        }
        String model = Chaos.model(cluster, b);
        List<StreamLoad.Spec> specs = StreamLoad.specs(model, "gw", 6, MAX_TOKENS, 3);
        Map<String, StreamLoad.Outcome> reference = load.runAll(b, specs);
        Chaos.assertNoneFailed(reference.values(), cluster);

        StreamLoad.Loop onA = load.loop(a, 3, specs);
        StreamLoad.Loop onB = load.loop(b, 3, specs);
        cluster.awaitTrue("both gateways served requests and have streams running", Duration.ofSeconds(60), () ->
                !onA.outcomes().isEmpty() && !onB.outcomes().isEmpty()
                        && onA.inFlight().stream().filter(r -> r.receivedTokens() > 0).count() >= 2);
        onA.halt(); // its clients send nothing new: every request of A that fails was in flight at the kill
        List<StreamLoad.Outcome> aBefore = onA.outcomes();
        int inFlightOnA = onA.inFlight().size();
        int servedByBBefore = onB.outcomes().size();
        victim.kill();
        long killedAt = System.nanoTime();

        List<StreamLoad.Outcome> aAll = onA.stop(Duration.ofSeconds(60));
        cluster.awaitTrue("gateway-b completes six more requests after the kill", Duration.ofSeconds(90),
                () -> onB.outcomes().size() >= servedByBBefore + 6);
        List<StreamLoad.Outcome> bAll = onB.stop(Duration.ofSeconds(90));
        System.out.printf("gateway-b served %d requests after the kill in %.1f s%n", bAll.size() - servedByBBefore,
                (System.nanoTime() - killedAt) / 1e9);

        Chaos.assertNoneFailed(aBefore, cluster);
        List<StreamLoad.Outcome> aFailed = aAll.stream().filter(o -> !o.ok()).toList();
        assertTrue(aFailed.size() <= inFlightOnA, "only requests in flight on the killed gateway failed: " + inFlightOnA
                + " were, " + aFailed + " failed");
        assertTrue(!aFailed.isEmpty(), "the killed gateway's streams in flight were cut (got " + aAll + ")");
        Chaos.assertNoneFailed(bAll, cluster);
        Chaos.assertSameTokens(reference, bAll);
        Chaos.assertSameTokens(reference, aAll.stream().filter(StreamLoad.Outcome::ok).toList());
        cluster.awaitTrue("the worker freed the dead gateway's streams and their KV blocks", Duration.ofSeconds(60),
                () -> cluster.metric(workerPort, Chaos.WORKER_STREAMS) == 0 && cluster.metric(workerPort, Chaos.ACTIVE_BLOCKS) == 0,
                () -> cluster.metricsOf(workerBase));
        assertTrue(survivor.isAlive() && worker.isAlive());
        System.out.printf("GatewayKillIT: %d of %d requests on the killed gateway failed, gateway-b served %d, wall time %.1f s%n",
                aFailed.size(), aAll.size(), bAll.size(), (System.nanoTime() - t0) / 1e9);
    }
}
