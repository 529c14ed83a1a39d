package io.tandem.gateway.it;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILL the prefill worker mid-transfer (a gateway, a prefill and a decode worker, {@code java -jar … -cluster}
 * with the cluster secret): six streamed completions of 200-token prompts are being prefilled remotely, and the
 * prefill worker is killed once it has written KV into the decode worker. No request fails, every client receives the
 * token ids of the run without the fault (the decode worker prefills the interrupted prompts itself), and the decode
 * worker ends with as many KV blocks in use as before the load: none leaked by the dead transfers.
 *
 * <p>Prefix caching is off on both workers so that the no-fault run, with the same prompts, leaves nothing cached that
 * would spare the second run its remote prefills.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PrefillKillIT {
    private static final Path MODEL = ProcessCluster.ROOT.resolve("testdata/models/tandem-fortune-5m-f32.gguf");
    private static final ProcessCluster.Sample REMOTE = ProcessCluster.Sample.of("tandem_prefills_total", "where", "remote");
    private static final ProcessCluster.Sample FALLBACKS = ProcessCluster.Sample.of("tandem_prefill_fallbacks_total");
    private static final ProcessCluster.Sample TRANSFERRED = ProcessCluster.Sample.of("tandem_transfer_bytes_total");
    private final ProcessCluster cluster = new ProcessCluster("prefill-kill");
    private final StreamLoad load = new StreamLoad(Duration.ofSeconds(90));

    @AfterEach
    void stopAll() throws InterruptedException {
        load.close();
        cluster.close();
    }

    @Test
    void killedPrefillWorkerLosesNoRequestAndLeaksNoBlock() throws Exception {
        long t0 = System.nanoTime();
        String[] engine = Chaos.cpuEngine(MODEL, "--engine-option", "prefix-caching=false");
        // 16-token chunks: a prefill takes many steps, each writing KV, so the kill lands while KV is being written
        JarProcess prefill = cluster.worker("prefill", 0, concat(engine, "--role", "prefill",
                "--engine-option", "max-num-batched-tokens=16"));
        JarProcess decode = cluster.worker("decode", 0, concat(engine, "--role", "decode",
                "--engine-option", "max-num-batched-tokens=32", "--max-local-prefill-tokens", "32", "--prefill-timeout", "20"));
        JarProcess gateway = cluster.gateway("gateway", 0, "--model", MODEL.toString());
        int prefillPort = cluster.awaitPort(prefill, Duration.ofSeconds(120));
        int decodePort = cluster.awaitPort(decode, Duration.ofSeconds(120));
        String gw = "http://127.0.0.1:" + cluster.awaitPort(gateway, Duration.ofSeconds(120));
        String decodeBase = "http://127.0.0.1:" + decodePort;
        cluster.awaitTrue("the gateway is ready", Duration.ofSeconds(90), () -> cluster.status(gw + "/ready") == 200);
        cluster.awaitTrue("the prefill worker is ready", Duration.ofSeconds(60),
                () -> cluster.status("http://127.0.0.1:" + prefillPort + "/ready") == 200);
        String model = Chaos.model(cluster, gw);

        List<StreamLoad.Spec> specs = new ArrayList<>();
        Random random = new Random(11);
        for (int i = 0; i < 6; i++) {
            JsonArray prompt = new JsonArray();
            random.ints(200, 10, 1000).forEach(prompt::add);
            specs.add(new StreamLoad.Spec("long-" + i, StreamLoad.body(model, prompt, 48, i % 3 == 2 ? 500L + i : null)));
        }
        // the no-fault run; it also waits, if need be, until the decode worker sees the prefill worker
        cluster.awaitTrue("a long prompt is prefilled remotely", Duration.ofSeconds(60), () -> {
            try {
                return load.start(gw, specs.getFirst()).await(Duration.ofSeconds(60)).ok() && cluster.metric(decodePort, REMOTE) > 0;
            } catch (Exception e) {
                return false;
            }
        });
        Map<String, StreamLoad.Outcome> reference = load.runAll(gw, specs);
        Chaos.assertNoneFailed(reference.values(), cluster);
        cluster.awaitTrue("the decode worker holds no stream", Duration.ofSeconds(30),
                () -> cluster.metric(decodePort, Chaos.WORKER_STREAMS) == 0, () -> cluster.metricsOf(decodeBase));
        double blocksAtStart = cluster.metric(decodePort, Chaos.ACTIVE_BLOCKS);
        double remoteBefore = cluster.metric(decodePort, REMOTE);
        double bytesBefore = cluster.metric(prefillPort, TRANSFERRED);
        assertTrue(remoteBefore >= specs.size(), "the no-fault run prefilled remotely\n" + cluster.metricsOf(decodeBase));

        List<StreamLoad.Running> running = specs.stream().map(s -> load.start(gw, s)).toList();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) { // kill as soon as KV is being written
            boolean allEnded = running.stream().allMatch(r -> r.done.isDone()); // read before the bytes: no race
            if (cluster.metric(prefillPort, TRANSFERRED) > bytesBefore) break;
            if (allEnded || System.nanoTime() > deadline) {
                throw new AssertionError((allEnded ? "every request ended" : "60 s passed") + " and no KV transfer started"
                        + "\n---- decode metrics ----\n" + counters(decodeBase)
                        + "\n---- prefill metrics ----\n" + counters("http://127.0.0.1:" + prefillPort)
                        + "\n" + cluster.logs());
            }
            Thread.sleep(5);
        }
        prefill.kill();
        long killedAt = System.nanoTime();
        Map<String, StreamLoad.Outcome> outcomes = load.collect(running);
        System.out.printf("every stream finished %.1f s after the kill%n", (System.nanoTime() - killedAt) / 1e9);

        Chaos.assertNoneFailed(outcomes.values(), cluster);
        Chaos.assertSameTokens(reference, outcomes.values());
        double fallbacks = cluster.metric(decodePort, FALLBACKS);
        assertTrue(fallbacks >= 1, "the kill interrupted remote prefills, which the decode worker did itself\n"
                + cluster.metricsOf(decodeBase));
        cluster.awaitTrue("the decode worker's KV blocks in use are back to their start value", Duration.ofSeconds(30),
                () -> cluster.metric(decodePort, Chaos.ACTIVE_BLOCKS) == blocksAtStart
                        && cluster.metric(decodePort, Chaos.WORKER_STREAMS) == 0,
                () -> cluster.metricsOf(decodeBase));
        assertEquals(0, blocksAtStart, "no request held blocks before the load");
        System.out.printf("PrefillKillIT: %.0f fallbacks, wall time %.1f s%n", fallbacks, (System.nanoTime() - t0) / 1e9);
    }

    /** The worker's {@code tandem_*} samples without histogram buckets (hundreds of lines that say little here). */
    private String counters(String base) {
        return cluster.metricsOf(base).lines().filter(l -> !l.contains("_bucket{"))
                .collect(java.util.stream.Collectors.joining("\n"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
