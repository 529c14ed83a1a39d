package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A gateway, one prefill and one decode worker as separate {@code java -jar … -cluster} processes on loopback: long
 * prompts are prefilled on the prefill worker and short ones on the decode worker (visible in /metrics), and the
 * outputs equal an aggregated run (an embedded gateway with one worker doing both, in this JVM). Then the prefill
 * worker is killed while prompts are being prefilled: every request still completes, by local prefill, with the same
 * output, and the decode worker ends holding no KV block.
 */
class DisaggregationClusterIT {
    private static final Path MODEL = ProcessCluster.ROOT.resolve("testdata/models/tandem-fortune-5m-f32.gguf");
    private static final ProcessCluster.Sample REMOTE = ProcessCluster.Sample.of("tandem_prefills_total", "where", "remote");
    private static final ProcessCluster.Sample LOCAL = ProcessCluster.Sample.of("tandem_prefills_total", "where", "local");
    private static final ProcessCluster.Sample FALLBACKS = ProcessCluster.Sample.of("tandem_prefill_fallbacks_total");
    private static final ProcessCluster.Sample TRANSFERRED = ProcessCluster.Sample.of("tandem_transfer_bytes_total");
    private static final ProcessCluster.Sample ACTIVE_BLOCKS = ProcessCluster.Sample.of("tandem_worker_active_blocks");
    private final ProcessCluster cluster = new ProcessCluster("disaggregation");
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private Gateway aggregated;

    @AfterEach
    void stopAll() throws InterruptedException {
        cluster.close();
        if (aggregated != null) TestSupport.sync(aggregated.stop());
    }

    @Test
    @Timeout(300)
    void longPromptsAreDisaggregatedAndAKilledPrefillWorkerLosesNothing() throws Exception {
        String[] engine = {"--model", MODEL.toString(), "--threads", "1", "--engine-option", "kv-cache-memory=32MiB",
                "--engine-option", "max-num-batched-tokens=32"};
        // 16-token chunks on the prefill worker: a prefill takes many steps, so the kill lands in the middle of them
        JarProcess prefill = cluster.worker("prefill", 0, concat(engine, "--role", "prefill", "--engine-option", "max-num-batched-tokens=16"));
        JarProcess decode = cluster.worker("decode", 0, concat(engine, "--role", "decode", "--max-local-prefill-tokens", "32",
                "--prefill-timeout", "20"));
        // the gateway loads the workers' file: a worker serving another file under the same name is refused
        JarProcess gateway = cluster.gateway("gateway", 0, "--model", MODEL.toString());
        int prefillPort = cluster.awaitPort(prefill, Duration.ofSeconds(120));
        int decodePort = cluster.awaitPort(decode, Duration.ofSeconds(120));
        String gw = "http://127.0.0.1:" + cluster.awaitPort(gateway, Duration.ofSeconds(120));
        cluster.awaitTrue("the gateway is ready", Duration.ofSeconds(120), () -> cluster.status(gw + "/ready") == 200);
        cluster.awaitTrue("the prefill worker is ready", Duration.ofSeconds(60),
                () -> cluster.status("http://127.0.0.1:" + prefillPort + "/ready") == 200);
        assertEquals(401, cluster.status("http://127.0.0.1:" + prefillPort + "/route"),
                "its transfer bootstrap is served to cluster members only");

        aggregated = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setModels(List.of(MODEL))
                .setEngine("cpu").setEngineOptions(Map.of("threads", 1, "kv-cache-memory", "32MiB")).setPrefillWorkers(0));
        String agg = "http://127.0.0.1:" + aggregated.port();
        String model = new JsonObject(get(gw + "/v1/models")).getJsonArray("data").getJsonObject(0).getString("id");
        // the decode worker learns of the prefill worker through its own registry view, which nothing announces: send
        // a long prompt until one is prefilled remotely, which proves that view; the counts below are taken after it
        Random probes = new Random(5);
        cluster.awaitTrue("the decode worker sends a long prompt to the prefill worker", Duration.ofSeconds(60), () -> {
            try {
                complete(gw, model, prompts(probes, "probe", 1, 150));
            } catch (Exception e) {
                throw new AssertionError("a probe completion failed", e);
            }
            return cluster.metric(decodePort, REMOTE) > 0;
        }, () -> cluster.metricsOf("http://127.0.0.1:" + decodePort));
        double remote0 = cluster.metric(decodePort, REMOTE), local0 = cluster.metric(decodePort, LOCAL);
        double fallbacks0 = cluster.metric(decodePort, FALLBACKS);

        Map<String, JsonArray> prompts = prompts(new Random(3), "short", 2, 12, "long", 4, 150);
        Map<String, String> expected = complete(agg, model, prompts);
        String decodeBase = "http://127.0.0.1:" + decodePort;
        assertEquals(expected, complete(gw, model, prompts), "disaggregated == aggregated");
        assertEquals(4, cluster.metric(decodePort, REMOTE) - remote0, "long prompts were prefilled remotely\n" + cluster.metricsOf(decodeBase));
        assertEquals(2, cluster.metric(decodePort, LOCAL) - local0, "short prompts were prefilled locally");
        assertEquals(0, cluster.metric(decodePort, FALLBACKS) - fallbacks0, "no fallback");
        assertTrue(cluster.metric(prefillPort, TRANSFERRED) > 0, "the prefill worker wrote KV");

        // kill -9 the prefill worker while a batch of long prompts is being prefilled
        Map<String, JsonArray> more = prompts(new Random(4), "again", 6, 200);
        Map<String, String> moreExpected = complete(agg, model, more);
        double remoteBefore = cluster.metric(decodePort, REMOTE);
        Map<String, CompletableFuture<String>> inFlight = new LinkedHashMap<>();
        more.forEach((name, p) -> inFlight.put(name, completeAsync(gw, model, p)));
        // kill as soon as the first prefill went out: polled tightly, as the prefill lasts only a few steps
        cluster.awaitTrue("a remote prefill started", Duration.ofSeconds(30), Duration.ofMillis(5),
                () -> cluster.metric(decodePort, REMOTE) > remoteBefore, () -> "");
        prefill.kill();
        Map<String, String> after = new LinkedHashMap<>();
        for (var e : inFlight.entrySet()) after.put(e.getKey(), e.getValue().get(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(moreExpected, after, "every request completed, with the aggregated output");
        assertTrue(cluster.metric(decodePort, FALLBACKS) >= 1, "the kill interrupted remote prefills, which fell back\n"
                + cluster.metricsOf(decodeBase));
        cluster.awaitTrue("the decode worker holds no KV block", Duration.ofSeconds(20),
                () -> cluster.metric(decodePort, ACTIVE_BLOCKS) == 0, () -> cluster.metricsOf(decodeBase));
        // later long prompts find no prefill worker and are served locally
        assertEquals(complete(agg, model, prompts), complete(gw, model, prompts));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Token-id prompts: {@code count} of {@code length} tokens per (name, count, length) triple. */
    private static Map<String, JsonArray> prompts(Random random, Object... spec) {
        Map<String, JsonArray> out = new LinkedHashMap<>();
        for (int s = 0; s < spec.length; s += 3) {
            for (int i = 0; i < (int) spec[s + 1]; i++) {
                JsonArray p = new JsonArray();
                random.ints((int) spec[s + 2], 10, 1000).forEach(p::add);
                out.put(spec[s] + "-" + i, p);
            }
        }
        return out;
    }

    /** Sends every prompt at once (greedy, 16 tokens as ids) and returns each answer's token ids. */
    private Map<String, String> complete(String base, String model, Map<String, JsonArray> prompts) throws Exception {
        Map<String, CompletableFuture<String>> all = new LinkedHashMap<>();
        prompts.forEach((name, p) -> all.put(name, completeAsync(base, model, p)));
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : all.entrySet()) out.put(e.getKey(), e.getValue().get(60, java.util.concurrent.TimeUnit.SECONDS));
        return out;
    }

    private CompletableFuture<String> completeAsync(String base, String model, JsonArray prompt) {
        JsonObject body = new JsonObject().put("model", model).put("prompt", prompt).put("max_tokens", 16)
                .put("temperature", 0).put("ignore_eos", true).put("logprobs", 1).put("return_tokens_as_token_ids", true);
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/completions")).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            if (r.statusCode() != 200) throw new AssertionError(r.statusCode() + " " + r.body());
            List<String> tokens = new ArrayList<>();
            for (Object t : new JsonObject(r.body()).getJsonArray("choices").getJsonObject(0).getJsonObject("logprobs").getJsonArray("tokens")) {
                tokens.add(t.toString());
            }
            return String.join(",", tokens);
        });
    }

    private String get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
