package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Gateways on 127.0.0.1:0 with a fast simulated engine, and a small HTTP client for them. */
public final class TestSupport {

    private TestSupport() {}

    public static Path repoRoot() {
        String prop = System.getProperty("tandem.repo.root");
        if (prop != null && Files.isDirectory(Path.of(prop, "testdata"))) return Path.of(prop);
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("no testdata/ above " + System.getProperty("user.dir"));
        return dir;
    }

    /** Sim timing: {@code decodeStepMillis} per token, negligible prefill. */
    public static GatewayOptions options(double decodeStepMillis) {
        return new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setEngine("sim")
                .setEngineOptions(Map.of(
                        "decodeStepNanos", (long) (decodeStepMillis * 1_000_000),
                        "prefillNanosPerToken", 1_000,
                        "perSequenceNanos", 0,
                        "perContextTokenNanos", 0));
    }

    /** The fingerprint of a model file, as workers serving it state it. */
    public static String fingerprint(Path gguf) {
        try (io.tandem.model.gguf.GgufFile f = io.tandem.model.gguf.GgufFile.open(gguf)) {
            return io.tandem.model.ModelFingerprint.of(f);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The contract a simulated-engine worker serving {@code gguf} states (block size 16, no KV cache). */
    public static io.tandem.protocol.ClusterContract simContract(Path gguf) {
        return io.tandem.protocol.ClusterContract.of(fingerprint(gguf), 16, io.tandem.protocol.ClusterContract.NO_KV,
                io.tandem.protocol.ClusterContract.NO_KV);
    }

    public static Gateway start(GatewayOptions options) {
        return sync(Gateway.start(options));
    }

    /** Waits (at most a minute) for a future, rethrowing its failure unchecked. */
    public static <T> T sync(io.vertx.core.Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new RuntimeException(e.getCause());
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    /** Polls {@code condition} until it holds (state no event announces); fails once {@code within} passed. */
    public static void await(String what, Duration within, BooleanSupplier condition) {
        long end = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) fail("timed out after " + within + " waiting for: " + what);
            pollInterval();
        }
    }

    /**
     * Asserts {@code condition} holds throughout {@code window}: for something that must NOT happen, which no event
     * can announce. The window is explicit and bounded; its length decides how likely a bug is caught, never whether
     * a correct run passes.
     */
    public static void stays(String what, Duration window, BooleanSupplier condition) {
        long end = System.nanoTime() + window.toNanos();
        do {
            if (!condition.getAsBoolean()) fail("stopped holding: " + what);
            pollInterval();
        } while (System.nanoTime() < end);
        if (!condition.getAsBoolean()) fail("stopped holding: " + what);
    }

    private static void pollInterval() {
        try {
            Thread.sleep(10); // a polling interval: the caller's condition decides
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
    }

    public static JsonObject chat(String model, String user) {
        return new JsonObject().put("model", model)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", user)));
    }

    /** An HTTP answer with its body as text. */
    public record Reply(int status, MultiMap headers, String body) {
        public JsonObject json() {
            return new JsonObject(body);
        }

        /** Asserts the OpenAI error envelope and returns its inner object. */
        public JsonObject error(int expectedStatus) {
            assertEquals(expectedStatus, status, body);
            assertTrue(headers.get("content-type").startsWith("application/json"), headers.get("content-type"));
            JsonObject env = json();
            assertEquals(java.util.Set.of("error"), env.fieldNames(), body);
            JsonObject e = env.getJsonObject("error");
            assertEquals(java.util.Set.of("message", "type", "param", "code"), e.fieldNames(), body);
            assertTrue(e.getString("message") != null && !e.getString("message").isBlank(), body);
            return e;
        }

        /**
         * The SSE payloads, checking the framing strictly: the body is nothing but
         * {@code data: <payload>\n\n} events and the last is {@code [DONE]}.
         */
        public List<String> sse() {
            assertEquals(200, status, body);
            assertTrue(headers.get("content-type").startsWith("text/event-stream"), headers.get("content-type"));
            List<String> events = new ArrayList<>();
            int at = 0;
            while (at < body.length()) {
                int end = body.indexOf("\n\n", at);
                if (end < 0) fail("unterminated event at " + at + ": " + body.substring(at));
                String event = body.substring(at, end);
                if (!event.startsWith("data: ") || event.indexOf('\n') >= 0) fail("not a single data line: " + event);
                events.add(event.substring("data: ".length()));
                at = end + 2;
            }
            assertTrue(!events.isEmpty() && events.getLast().equals("[DONE]"), "last event must be [DONE]: " + events);
            for (int i = 0; i < events.size() - 1; i++) {
                assertTrue(!events.get(i).equals("[DONE]"), "[DONE] before the end");
            }
            return events.subList(0, events.size() - 1);
        }

        public List<JsonObject> sseJson() {
            return sse().stream().map(JsonObject::new).toList();
        }
    }

    /** A WebClient on its own Vert.x. */
    public static final class Http implements AutoCloseable {
        private final Vertx vertx = Vertx.vertx();
        private final WebClient client;

        public Http(int port) {
            client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
        }

        public Reply get(String path) {
            return send(HttpMethod.GET, path, null, MultiMap.caseInsensitiveMultiMap());
        }

        public Reply post(String path, JsonObject body) {
            return send(HttpMethod.POST, path, body.toBuffer(), MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json"));
        }

        public Reply send(HttpMethod method, String path, Buffer body, MultiMap headers) {
            var request = client.request(method, path).putHeaders(headers).timeout(Duration.ofSeconds(30).toMillis());
            HttpResponse<Buffer> r = sync(body == null ? request.send() : request.sendBuffer(body));
            return new Reply(r.statusCode(), r.headers(), r.bodyAsString() == null ? "" : r.bodyAsString());
        }

        public Vertx vertx() {
            return vertx;
        }

        @Override
        public void close() {
            sync(vertx.close());
        }
    }
}
