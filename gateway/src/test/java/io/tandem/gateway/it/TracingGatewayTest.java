package io.tandem.gateway.it;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.tandem.worker.tracing.Tracing;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One disaggregated chat request through the embedded gateway (a prefill and a decode worker, the bundled CPU model,
 * KV over tcp) with tracing into an in-memory exporter: a single trace holds the gateway's request, preprocess and
 * route spans, the decode worker's generate, queue, remote prefill and decode spans, and the prefill worker's
 * request, compute and KV transfer spans, each under the right parent, the W3C context having crossed the event bus
 * in the generate and the remote-prefill messages' headers.
 */
class TracingGatewayTest {

    private static final String MODEL = "tiny-llama-spm-f32";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();
    private static Tracing tracing;
    private static Gateway gateway;

    @BeforeAll
    static void start() {
        tracing = Tracing.exportingTo(SPANS);
        Path model = TestSupport.repoRoot().resolve("testdata/models/" + MODEL + ".gguf");
        gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setModels(List.of(model))
                .setEngine("cpu").setEngineOptions(Map.of("threads", 1, "kv-cache-memory", "32MiB", "kv-dtype", "f32"))
                .setPrefillWorkers(1)
                .setDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer("tcp").withMaxLocalPrefillTokens(4))
                .setTracing(tracing));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) TestSupport.sync(gateway.stop());
        if (tracing != null) tracing.close();
    }

    @Test
    void oneTraceSpansTheGatewayTheDecodeWorkerAndThePrefillWorker() throws Exception {
        String served = new JsonObject(HTTP.send(HttpRequest.newBuilder(uri("/v1/models")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body()).getJsonArray("data").getJsonObject(0).getString("id");
        SPANS.reset();
        JsonObject body = new JsonObject().put("model", served).put("max_tokens", 6).put("temperature", 0).put("ignore_eos", true)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                        .put("content", "Tell me, in many more words than four, how a trace crosses an event bus")));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());

        // the worker records its spans once the engine's last event reached its context: maybe after the response
        List<SpanData> spans = awaitSpans(all -> has(all, "tandem.worker.decode") && has(all, "tandem.gateway.request")
                && has(all, "tandem.prefill.request") && has(all, "tandem.worker.generate"));

        SpanData request = one(spans, "tandem.gateway.request");
        assertFalse(request.getParentSpanContext().isValid(), "the gateway's request span is the root");
        assertEquals(Tracing.GATEWAY_SERVICE, service(request));
        for (SpanData s : spans) assertEquals(request.getTraceId(), s.getTraceId(), "one trace: " + s.getName());

        SpanData template = one(spans, "tandem.gateway.template");
        assertChild(request, template);
        SpanData tokenize = one(spans, "tandem.gateway.tokenize");
        assertChild(request, tokenize);
        assertTrue(template.getEndEpochNanos() <= tokenize.getStartEpochNanos() + 1_000, "template, then tokenizer");
        assertTrue(tokenize.getAttributes().get(AttributeKey.longKey("tandem.prompt_tokens")) > 0);
        SpanData route = one(spans, "tandem.gateway.route");
        assertChild(request, route);
        String decodeWorker = route.getAttributes().get(AttributeKey.stringKey("tandem.worker.id"));
        assertTrue(decodeWorker.startsWith("decode-"), "routed to the decode worker: " + decodeWorker);
        assertTrue(route.getAttributes().get(AttributeKey.longKey("tandem.route.prompt_blocks")) > 0);
        assertEquals(0L, route.getAttributes().get(AttributeKey.longKey("tandem.route.overlap_tokens")), "a cold cache");

        SpanData generate = one(spans, "tandem.worker.generate");
        assertChild(request, generate);
        assertEquals(Tracing.WORKER_SERVICE, service(generate));
        assertEquals(decodeWorker, generate.getAttributes().get(AttributeKey.stringKey("tandem.worker.id")));
        assertEquals("decode", generate.getAttributes().get(AttributeKey.stringKey("tandem.worker.role")));
        assertEquals(6L, generate.getAttributes().get(AttributeKey.longKey("tandem.completion_tokens")));
        assertChild(generate, one(spans, "tandem.worker.queue"));
        SpanData decode = one(spans, "tandem.worker.decode");
        assertChild(generate, decode);
        List<SpanData> prefills = all(spans, "tandem.worker.prefill");
        assertEquals(1, prefills.size(), "one prefill, remote, no local fallback: " + prefills);
        SpanData remote = prefills.getFirst();
        assertChild(generate, remote);
        assertEquals("remote", remote.getAttributes().get(AttributeKey.stringKey("tandem.prefill.location")));
        String prefillWorker = remote.getAttributes().get(AttributeKey.stringKey("tandem.prefill.worker"));
        assertTrue(prefillWorker.startsWith("prefill-"), prefillWorker);
        assertTrue(remote.getEndEpochNanos() <= decode.getStartEpochNanos() + 1_000_000, "decode follows the prefill");

        SpanData prefillRequest = one(spans, "tandem.prefill.request");
        assertChild(remote, prefillRequest);
        assertEquals(prefillWorker, prefillRequest.getAttributes().get(AttributeKey.stringKey("tandem.worker.id")));
        assertEquals("prefill", prefillRequest.getAttributes().get(AttributeKey.stringKey("tandem.worker.role")));
        assertChild(prefillRequest, one(spans, "tandem.prefill.compute"));
        List<SpanData> transfers = all(spans, "tandem.kv.transfer");
        assertFalse(transfers.isEmpty(), "KV transfers recorded");
        long bytes = 0;
        for (SpanData t : transfers) {
            assertChild(prefillRequest, t);
            assertEquals("tcp", t.getAttributes().get(AttributeKey.stringKey("tandem.kv.backend")));
            bytes += t.getAttributes().get(AttributeKey.longKey("tandem.kv.bytes"));
        }
        assertTrue(bytes > 0);
        assertEquals(bytes, remote.getAttributes().get(AttributeKey.longKey("tandem.kv.transfer_bytes")),
                "the transfers' bytes add up to what the decode worker was told");
    }

    private static List<SpanData> awaitSpans(Predicate<List<SpanData>> complete) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            List<SpanData> spans = SPANS.getFinishedSpanItems();
            if (complete.test(spans)) return spans;
            if (System.nanoTime() > deadline) fail("spans incomplete after 30 s: " + spans.stream().map(SpanData::getName).toList());
            Thread.sleep(20); // polls a condition, bounded by the deadline
        }
    }

    private static boolean has(List<SpanData> spans, String name) {
        return spans.stream().anyMatch(s -> s.getName().equals(name));
    }

    private static List<SpanData> all(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).toList();
    }

    private static SpanData one(List<SpanData> spans, String name) {
        List<SpanData> found = all(spans, name);
        assertEquals(1, found.size(), name + " in " + spans.stream().map(SpanData::getName).toList());
        return found.getFirst();
    }

    private static void assertChild(SpanData parent, SpanData child) {
        assertEquals(parent.getSpanId(), child.getParentSpanId(), child.getName() + " is a child of " + parent.getName());
    }

    private static String service(SpanData span) {
        return span.getResource().getAttribute(AttributeKey.stringKey("service.name"));
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + gateway.port() + path);
    }
}
