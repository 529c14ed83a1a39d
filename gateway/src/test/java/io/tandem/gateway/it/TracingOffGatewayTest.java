package io.tandem.gateway.it;

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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Without an endpoint a disaggregated request is not traced at all: the gateway's Vert.x holds {@link Tracing#OFF}
 * and no event-bus message — generate, remote prefill or any other — carries a trace header.
 */
class TracingOffGatewayTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static Gateway gateway;

    @BeforeAll
    static void start() {
        assumeTrue(System.getenv(Tracing.ENDPOINT_ENV) == null, Tracing.ENDPOINT_ENV + " is set: tracing would be on");
        Path model = TestSupport.repoRoot().resolve("testdata/models/tiny-llama-spm-f32.gguf");
        gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setModels(List.of(model))
                .setEngine("cpu").setEngineOptions(Map.of("threads", 1, "kv-cache-memory", "32MiB", "kv-dtype", "f32"))
                .setPrefillWorkers(1)
                .setDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer("tcp").withMaxLocalPrefillTokens(4)));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @Test
    void noMessageCarriesATraceHeader() throws Exception {
        assertSame(Tracing.OFF, Tracing.of(gateway.vertx()));
        Set<String> traced = ConcurrentHashMap.newKeySet();
        AtomicInteger messages = new AtomicInteger();
        gateway.vertx().eventBus().addOutboundInterceptor(ctx -> {
            messages.incrementAndGet();
            if (ctx.message().headers().contains("traceparent")) traced.add(ctx.message().address());
            ctx.next();
        });
        String served = new JsonObject(HTTP.send(HttpRequest.newBuilder(uri("/v1/models")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body()).getJsonArray("data").getJsonObject(0).getString("id");
        JsonObject body = new JsonObject().put("model", served).put("max_tokens", 4).put("temperature", 0).put("ignore_eos", true)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                        .put("content", "Tell me, in many more words than four, how a trace crosses an event bus")));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri("/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(messages.get() > 0, "the interceptor saw the request's messages");
        assertEquals(Set.of(), traced, "messages with a traceparent header");
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + gateway.port() + path);
    }
}
