package io.tandem.gateway.it.netns;

import io.tandem.gateway.it.StreamLoad;
import io.tandem.gateway.it.TestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One worker's network link is cut for 10 s under load: a gateway and two aggregated workers, each on its own
 * {@link NetnsHosts} host, the CPU engine, round-robin; six streamed completions of 400 tokens run when the cut
 * worker's veth goes down. Its streams migrate to the other worker (its registry lease expires: the gateway sees it
 * leave), every client receives exactly the token ids of the run without the fault — nothing the cut worker produced
 * reaches a client after the move, no token twice — and no request fails. When the link is back, the cut worker
 * learns that its streams' consumers are gone and frees them, rejoins the registry and serves requests again.
 *
 * <p>Needs root, {@code ip} and {@code unshare}; skips with the reason otherwise.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LinkCutIT {
    private static final Path ROOT = TestSupport.repoRoot();
    private static final Path MODEL = ROOT.resolve("testdata/models/tiny-llama-spm-f32.gguf");
    private static final List<String> HOSTS = List.of("gateway", "cut", "steady");
    private static final Duration CUT = Duration.ofSeconds(10);
    private final HttpProbe http = new HttpProbe();
    private final StreamLoad load = new StreamLoad(Duration.ofSeconds(90));
    private final List<HostProcess> processes = new ArrayList<>();
    private NetnsHosts hosts;

    @AfterEach
    void stopAll() {
        load.close();
        if (hosts != null) hosts.close();
    }

    @Test
    void aWorkerCutOffForTenSecondsLosesItsStreamsToTheOtherAndRejoins() throws Exception {
        long t0 = System.nanoTime();
        hosts = NetnsHosts.create(ROOT.resolve("gateway/target/it-logs/link-cut-" + System.currentTimeMillis()),
                HOSTS.toArray(String[]::new));
        String secret = java.util.UUID.randomUUID().toString();
        for (String w : List.of("cut", "steady")) {
            launch(w, "worker/target/worker.jar", secret, "--host", "0.0.0.0", "--port", "8100", "--model", MODEL.toString(),
                    "--engine", "cpu", "--threads", "1", "--engine-option", "kv-cache-memory=32MiB");
        }
        launch("gateway", "gateway/target/gateway.jar", secret, "--host", "0.0.0.0", "--port", "8000",
                "--model", MODEL.toString(), "--router", "round-robin",
                // a stall (no token, no keep-alive) for 4 s moves the streams too, should the 6 s lease be slow to expire
                "--stream-idle-timeout-ms", "4000");
        String gw = "http://" + hosts.ip("gateway") + ":8000";
        String cut = "http://" + hosts.ip("cut") + ":8100";
        String steady = "http://" + hosts.ip("steady") + ":8100";
        await("every process is ready", Duration.ofSeconds(150), () ->
                http.status(gw + "/ready") == 200 && http.status(cut + "/ready") == 200 && http.status(steady + "/ready") == 200);
        String model = http.getJson(gw + "/v1/models").getJsonArray("data").getJsonObject(0).getString("id");
        StreamLoad.Spec probe = new StreamLoad.Spec("probe", StreamLoad.body(model, "Hello", 2, null));
        await("both workers serve", Duration.ofSeconds(90), () -> {
            sendQuietly(gw, probe);
            return served(cut) > 0 && served(steady) > 0;
        });

        List<StreamLoad.Spec> specs = StreamLoad.specs(model, "cut", 6, 400, 3);
        Map<String, StreamLoad.Outcome> reference = load.runAll("http://" + hosts.ip("gateway") + ":8000", specs);
        assertAllOk(reference.values());

        double cancelledBefore = outcomes(cut, "cancelled");
        List<StreamLoad.Running> running = specs.stream().map(s -> load.start(gw, s)).toList();
        await("every stream has tokens and some run on the worker to cut", Duration.ofSeconds(60), () ->
                running.stream().allMatch(r -> r.receivedTokens() >= 8) && http.metric(cut, "tandem_worker_streams", "") >= 1);
        String veth = hosts.host("cut").rootVeth();
        link(veth, "down");
        long cutAt = System.nanoTime();
        try {
            // the streams that were on the cut worker move while the link is down
            await("the gateway migrates the cut worker's streams", CUT, () -> migrations(gw) >= 1);
        } finally {
            long left = CUT.toNanos() - (System.nanoTime() - cutAt);
            if (left > 0) Thread.sleep(left / 1_000_000); // the cut lasts its 10 s: a fault's length, not a synchronisation
            link(veth, "up");
        }
        long upAt = System.nanoTime();
        System.out.printf("link down for %.1f s; %.0f migration(s)%n", (System.nanoTime() - cutAt) / 1e9, migrations(gw));

        Map<String, StreamLoad.Outcome> outcomes = load.collect(running);
        assertAllOk(outcomes.values());
        for (StreamLoad.Outcome o : outcomes.values()) {
            assertEquals(reference.get(o.name()).tokens(), o.tokens(), o.name() + ": the same tokens as without the cut, none twice");
        }
        // the gateway cancelled them on the cut worker when they moved: that reaches it once the link is up, well
        // before its --stall-timeout (60 s) would free them
        await("the cut worker frees the streams it lost", Duration.ofSeconds(30),
                () -> http.metric(cut, "tandem_worker_streams", "") == 0 && http.metric(cut, "tandem_worker_active_blocks", "") == 0);
        System.out.printf("the cut worker freed its lost streams %.1f s after the link came back%n", (System.nanoTime() - upAt) / 1e9);
        assertTrue(outcomes(cut, "cancelled") > cancelledBefore, "the cut worker cancelled its moved streams\n" + http.tandemMetrics(cut));
        double servedBefore = served(cut);
        await("the cut worker rejoins and serves again", Duration.ofSeconds(60), () -> {
            sendQuietly(gw, probe);
            return served(cut) > servedBefore;
        });
        System.out.printf("LinkCutIT: wall time %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private void launch(String host, String jar, String secret, String... flags) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx384m", "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-Djava.util.logging.config.file=conf/logging.properties",
                "-jar", ROOT.resolve(jar).toString(), "-cluster", "-cluster-host", host));
        cmd.addAll(List.of(flags));
        processes.add(hosts.start(host, host, cmd,
                Map.of("TANDEM_CLUSTER_MEMBERS", String.join(",", HOSTS), "TANDEM_CLUSTER_SECRET", secret), ROOT));
    }

    private void link(String veth, String state) {
        Commands.Result r = Commands.run("ip", "link", "set", veth, state);
        if (!r.ok()) fail("ip link set " + veth + " " + state + ": " + r);
    }

    private double served(String worker) {
        return outcomes(worker, "length") + outcomes(worker, "stop");
    }

    private double outcomes(String worker, String outcome) {
        return http.metric(worker, "tandem_worker_requests_total", "outcome=\"" + outcome + "\"");
    }

    private double migrations(String gateway) {
        return http.metric(gateway, "tandem_migrations_total", "");
    }

    private void sendQuietly(String gw, StreamLoad.Spec spec) {
        try {
            load.start(gw, spec).await(Duration.ofSeconds(30));
        } catch (Exception e) {
            // the await's next round sends another
        }
    }

    private void assertAllOk(java.util.Collection<StreamLoad.Outcome> outcomes) {
        List<StreamLoad.Outcome> failed = outcomes.stream().filter(o -> !o.ok()).toList();
        if (!failed.isEmpty()) fail(failed + "\n" + hosts.logs());
    }

    private void await(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            for (HostProcess p : processes) {
                if (!p.isAlive()) fail(p.name() + " exited while waiting until " + what + "\n" + hosts.logs());
            }
            if (System.nanoTime() > deadline) fail("timed out after " + within + " waiting until " + what + "\n" + hosts.logs());
            Thread.sleep(100);
        }
    }
}
