package io.tandem.gateway.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A rolling restart under continuous load, as Kubernetes runs one: a gateway and two aggregated workers
 * ({@code java -jar … -cluster}, the CPU engine, round-robin) serve four clients sending streamed completions back to
 * back; each worker in turn gets SIGTERM, drains and exits 0, and a new worker takes its place and serves before the
 * next one goes. No request fails, and every request's tokens equal the no-fault run's.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RollingRestartIT {
    private final ProcessCluster cluster = new ProcessCluster("rolling-restart");
    private final StreamLoad load = new StreamLoad(Duration.ofSeconds(90));

    @AfterEach
    void stopAll() throws InterruptedException {
        load.close();
        cluster.close();
    }

    @Test
    void everyWorkerRestartedInTurnUnderLoadFailsNoRequest() throws Exception {
        long t0 = System.nanoTime();
        String[] engine = Chaos.cpuEngine(Chaos.TINY_LLAMA);
        JarProcess[] workers = {cluster.worker("worker-1", 0, engine), cluster.worker("worker-2", 0, engine)};
        JarProcess gateway = cluster.gateway("gateway", 0, "--model", Chaos.TINY_LLAMA.toString(), "--router", "round-robin");
        int[] ports = {cluster.awaitPort(workers[0], Duration.ofSeconds(120)), cluster.awaitPort(workers[1], Duration.ofSeconds(120))};
        String gw = "http://127.0.0.1:" + cluster.awaitPort(gateway, Duration.ofSeconds(120));
        cluster.awaitTrue("the gateway is ready", Duration.ofSeconds(90), () -> cluster.status(gw + "/ready") == 200);
        String model = Chaos.model(cluster, gw);
        Chaos.awaitEveryWorkerServes(cluster, load, gw, model, ports);

        List<StreamLoad.Spec> specs = StreamLoad.specs(model, "roll", 8, 200, 3);
        Map<String, StreamLoad.Outcome> reference = load.runAll(gw, specs);
        Chaos.assertNoneFailed(reference.values(), cluster);

        StreamLoad.Loop clients = load.loop(gw, 4, specs);
        for (int i = 0; i < workers.length; i++) {
            JarProcess old = workers[i];
            int progress = clients.outcomes().size();
            int oldPort = ports[i];
            // SIGTERM while it streams: the drain must finish (or hand over) what it serves
            cluster.awaitTrue("the clients are served and worker-" + (i + 1) + " streams", Duration.ofSeconds(60),
                    () -> clients.outcomes().size() >= progress + 2 && cluster.metric(oldPort, Chaos.WORKER_STREAMS) >= 1);
            long termAt = System.nanoTime();
            old.terminate();
            cluster.awaitTrue("worker-" + (i + 1) + " drains and exits", Duration.ofSeconds(60), () -> !old.isAlive());
            assertEquals(0, old.exitValue(), "a drained worker exits 0\n" + old.describe());
            System.out.printf("worker-%d drained and exited in %.1f s%n", i + 1, (System.nanoTime() - termAt) / 1e9);
            workers[i] = cluster.worker("worker-" + (i + 1) + "-restarted", 0, engine);
            int port = cluster.awaitPort(workers[i], Duration.ofSeconds(120));
            ports[i] = port;
            cluster.awaitTrue("the restarted worker serves", Duration.ofSeconds(90), () -> cluster.served(port) > 0);
        }
        List<StreamLoad.Outcome> outcomes = clients.stop(Duration.ofSeconds(90));

        Chaos.assertNoneFailed(outcomes, cluster);
        Chaos.assertSameTokens(reference, outcomes);
        System.out.printf("RollingRestartIT: %d requests, migrations: %s, wall time %.1f s%n", outcomes.size(),
                cluster.metricsOf(gw).lines().filter(l -> l.startsWith("tandem_migrations_total")).toList(),
                (System.nanoTime() - t0) / 1e9);
    }
}
