package io.tandem.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SIGTERM as Kubernetes or a rolling restart sends it, to real {@code java -jar … -cluster} JVMs with streams
 * running: a worker drains (its streams finish, nothing new reaches it), leaves the registry and exits 0; a gateway
 * refuses new requests with 503, finishes its in-flight streams and exits 0.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GracefulDrainIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Simulated decode speed: 200 tokens take 6 s (the bundled model allows 256), long enough to signal a process mid-stream. */
    private static final String[] SLOW_SIM = {"--engine", "sim", "--engine-option", "decodeStepNanos=30000000",
            "--engine-option", "prefillNanosPerToken=1000"};
    private static final int TOKENS = 200;

    private final ProcessCluster cluster = new ProcessCluster("drain");
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stopAll() throws InterruptedException {
        cluster.close();
    }

    private JarProcess worker(String name, String... extra) throws Exception {
        List<String> flags = new ArrayList<>(List.of("--role", "both"));
        flags.addAll(List.of(SLOW_SIM));
        flags.addAll(List.of(extra));
        return cluster.worker(name, 0, flags.toArray(String[]::new));
    }

    /** A streamed completion of exactly {@link #TOKENS} tokens; completes with the whole SSE body. */
    private CompletableFuture<HttpResponse<String>> stream(String base, String model) {
        String body = "{\"model\":\"" + model + "\",\"max_tokens\":" + TOKENS + ",\"ignore_eos\":true,\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"Count.\"}]}";
        return http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions")).timeout(Duration.ofSeconds(180))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** Asserts a whole stream: 200, the usage chunk counts every token, finish_reason length, [DONE] last. */
    private static void assertComplete(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        List<String> events = r.body().lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", events.getLast(), r.body());
        JsonNode usage = JSON.readTree(events.get(events.size() - 2)).get("usage");
        assertNotNull(usage, r.body());
        assertEquals(TOKENS, usage.get("completion_tokens").asInt(), r.body());
        assertTrue(r.body().contains("\"finish_reason\":\"length\""), r.body());
        assertFalse(r.body().contains("\"error\""), r.body());
    }

    private int streamsOn(int workerPort) {
        try {
            return JSON.readTree(cluster.get("http://127.0.0.1:" + workerPort + "/health").body()).get("streams").asInt();
        } catch (Exception e) {
            return -1;
        }
    }

    private String model(String base) throws Exception {
        cluster.awaitTrue("the gateway is ready", Duration.ofSeconds(120), () -> cluster.status(base + "/ready") == 200);
        return JSON.readTree(cluster.get(base + "/v1/models").body()).at("/data/0/id").asText();
    }

    private static int awaitExit(JarProcess p, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (p.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
        assertFalse(p.isAlive(), p + " did not exit within " + within + "\n" + p.describe());
        return p.exitValue();
    }

    @Test
    void aSigtermedWorkerFinishesItsStreamsTakesNothingNewLeavesTheRegistryAndExitsZero() throws Exception {
        JarProcess draining = worker("worker-draining", "--drain-timeout", "120");
        JarProcess staying = worker("worker-staying");
        JarProcess gateway = cluster.gateway("gateway", 0, "--router", "round-robin");
        int drainingPort = cluster.awaitPort(draining, Duration.ofSeconds(120));
        int stayingPort = cluster.awaitPort(staying, Duration.ofSeconds(120));
        String base = "http://127.0.0.1:" + cluster.awaitPort(gateway, Duration.ofSeconds(120));
        String model = model(base);
        cluster.awaitTrue("both workers take requests", Duration.ofSeconds(60), () -> {
            try {
                stream(base, model).get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                return false;
            }
            return cluster.served(drainingPort) > 0 && cluster.served(stayingPort) > 0;
        });

        List<CompletableFuture<HttpResponse<String>>> running = new ArrayList<>();
        for (int i = 0; i < 6; i++) running.add(stream(base, model));
        cluster.awaitTrue("the 6 streams run, some on the worker to stop", Duration.ofSeconds(30),
                () -> streamsOn(drainingPort) >= 2 && streamsOn(drainingPort) + streamsOn(stayingPort) == 6,
                () -> "streams: " + streamsOn(drainingPort) + " + " + streamsOn(stayingPort));
        int onDraining = streamsOn(drainingPort);

        draining.terminate(); // SIGTERM
        cluster.awaitTrue("the stopping worker's /ready says draining", Duration.ofSeconds(30),
                () -> cluster.status("http://127.0.0.1:" + drainingPort + "/ready") == 503);
        // while it drains, new requests succeed (the draining worker takes none: its drain counts only its own)
        List<CompletableFuture<HttpResponse<String>>> during = new ArrayList<>();
        for (int i = 0; i < 3; i++) during.add(stream(base, model));

        for (var r : running) assertComplete(r.get(120, TimeUnit.SECONDS));
        for (var r : during) assertComplete(r.get(120, TimeUnit.SECONDS));
        assertEquals(0, awaitExit(draining, Duration.ofSeconds(60)), draining.describe());
        String log = draining.output();
        assertTrue(log.contains("draining: " + onDraining + " streams running"), log);
        assertTrue(log.matches("(?s).*drain done in \\d+ ms: " + onDraining + " finished, 0 handed over.*"), log);
        assertTrue(log.contains("deregistering, freeing the KV cache, leaving the cluster"), log);
        // the gateway no longer knows it: every request lands on the other worker
        double before = cluster.served(stayingPort);
        for (int i = 0; i < 4; i++) assertComplete(stream(base, model).get(60, TimeUnit.SECONDS));
        assertEquals(before + 4, cluster.served(stayingPort));
    }

    @Test
    void aSigtermedGatewayRefusesNewRequestsFinishesItsStreamsAndExitsZero() throws Exception {
        JarProcess worker = worker("worker");
        JarProcess gateway = cluster.gateway("gateway", 0, "--drain-timeout", "120");
        int workerPort = cluster.awaitPort(worker, Duration.ofSeconds(120));
        String base = "http://127.0.0.1:" + cluster.awaitPort(gateway, Duration.ofSeconds(120));
        String model = model(base);

        List<CompletableFuture<HttpResponse<String>>> running = new ArrayList<>();
        for (int i = 0; i < 4; i++) running.add(stream(base, model));
        cluster.awaitTrue("4 streams run", Duration.ofSeconds(60), () -> streamsOn(workerPort) == 4);

        gateway.terminate(); // SIGTERM
        cluster.awaitTrue("the gateway's /ready turns 503", Duration.ofSeconds(30), () -> cluster.status(base + "/ready") == 503);
        HttpResponse<String> refused = stream(base, model).get(30, TimeUnit.SECONDS);
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("retry-after").isPresent(), refused.headers().toString());
        assertEquals("draining", JSON.readTree(refused.body()).at("/error/code").asText(), refused.body());

        for (var r : running) assertComplete(r.get(120, TimeUnit.SECONDS));
        assertEquals(0, awaitExit(gateway, Duration.ofSeconds(60)), gateway.describe());
        String log = gateway.output();
        assertTrue(log.contains("gateway draining: 4 requests in flight"), log);
        assertTrue(log.contains("finished, 0 cancelled"), log);
        assertTrue(worker.isAlive(), "the worker serves on");
    }
}
