package io.tandem.gateway.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL a decode worker mid-stream under load (a gateway and two aggregated workers, {@code java -jar … -cluster},
 * the CPU engine, round-robin): twelve concurrent streamed completions of 400 tokens, greedy and seeded with
 * penalties, are all running when {@code kill -9} hits one worker. No request fails, every client receives exactly
 * the token ids of the same request in a run without the fault, and the gateway counts the moved requests as
 * {@code tandem_migrations_total{reason="worker_left"}}. The surviving worker ends holding no stream and no KV block.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WorkerKillIT {
    private static final int REQUESTS = 12;
    private static final int MAX_TOKENS = 400;
    private final ProcessCluster cluster = new ProcessCluster("worker-kill");
    private final StreamLoad load = new StreamLoad(Duration.ofSeconds(90));

    @AfterEach
    void stopAll() throws InterruptedException {
        load.close();
        cluster.close();
    }

    @Test
    void killedWorkersStreamsContinueOnTheOtherWithTheSameTokens() throws Exception {
        long t0 = System.nanoTime();
        JarProcess victim = cluster.worker("worker-a", 0, Chaos.cpuEngine(Chaos.TINY_LLAMA));
        JarProcess survivor = cluster.worker("worker-b", 0, Chaos.cpuEngine(Chaos.TINY_LLAMA));
        JarProcess gateway = cluster.gateway("gateway", 0, "--model", Chaos.TINY_LLAMA.toString(), "--router", "round-robin");
        int victimPort = cluster.awaitPort(victim, Duration.ofSeconds(120));
        int survivorPort = cluster.awaitPort(survivor, Duration.ofSeconds(120));
        int gatewayPort = cluster.awaitPort(gateway, Duration.ofSeconds(120));
        String gw = "http://127.0.0.1:" + gatewayPort;
        cluster.awaitTrue("the gateway is ready", Duration.ofSeconds(90), () -> cluster.status(gw + "/ready") == 200);
        String model = Chaos.model(cluster, gw);
        Chaos.awaitEveryWorkerServes(cluster, load, gw, model, victimPort, survivorPort);

        List<StreamLoad.Spec> specs = StreamLoad.specs(model, "kill", REQUESTS, MAX_TOKENS, 3);
        Map<String, StreamLoad.Outcome> reference = load.runAll(gw, specs);
        Chaos.assertNoneFailed(reference.values(), cluster);

        List<StreamLoad.Running> running = specs.stream().map(s -> load.start(gw, s)).toList();
        double[] victimStreams = {0};
        cluster.awaitTrue("every stream has tokens and some run on the victim", Duration.ofSeconds(60), () -> {
            if (running.stream().anyMatch(r -> r.receivedTokens() < 8)) return false;
            victimStreams[0] = cluster.metric(victimPort, Chaos.WORKER_STREAMS);
            return victimStreams[0] >= 1;
        }, () -> "received: " + running.stream().map(StreamLoad.Running::receivedTokens).toList());
        int shortest = running.stream().mapToInt(StreamLoad.Running::receivedTokens).min().orElseThrow();
        victim.kill();
        long killedAt = System.nanoTime();
        System.out.printf("killed worker-a holding %.0f streams; the shortest stream had %d of %d tokens%n",
                victimStreams[0], shortest, MAX_TOKENS);

        Map<String, StreamLoad.Outcome> outcomes = load.collect(running);
        System.out.printf("every stream finished %.1f s after the kill%n", (System.nanoTime() - killedAt) / 1e9);
        Chaos.assertNoneFailed(outcomes.values(), cluster);
        Chaos.assertSameTokens(reference, outcomes.values());
        double moved = cluster.metric(gatewayPort, Chaos.migrations("worker_left"));
        assertTrue(moved >= 1, "the gateway counted the killed worker's streams as migrations (worker_left)\n"
                + cluster.metricsOf(gw));
        cluster.awaitTrue("the survivor holds no stream and no KV block", Duration.ofSeconds(30),
                () -> cluster.metric(survivorPort, Chaos.WORKER_STREAMS) == 0 && cluster.metric(survivorPort, Chaos.ACTIVE_BLOCKS) == 0,
                () -> cluster.metricsOf("http://127.0.0.1:" + survivorPort));
        System.out.printf("WorkerKillIT: %.0f migrations (worker_left), wall time %.1f s%n", moved, (System.nanoTime() - t0) / 1e9);
    }
}
