package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.gateway.it.TestSupport.Reply;
import io.tandem.model.BundledModel;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tandem.gateway.it.TestSupport.await;
import static io.tandem.gateway.it.TestSupport.chat;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The gateway attached to a Vert.x and registry of the test's, with scripted workers on the
 * event bus: routing failures, retries, timeouts and API keys, deterministically.
 */
class FakeWorkerTest {

    static final String MODEL = "tandem-fortune-5m";
    Vertx vertx;
    LocalWorkerRegistry registry;
    Gateway gateway;
    Http http;
    final List<Object> controls = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        ProtocolCodecs.registerAll(vertx.eventBus());
        registry = new LocalWorkerRegistry(vertx);
    }

    private void attach(List<String> keys) {
        attach(keys, 500);
    }

    private void attach(List<String> keys, long acceptTimeoutMillis) {
        attach(keys, acceptTimeoutMillis, o -> o);
    }

    private void attach(List<String> keys, long acceptTimeoutMillis, java.util.function.UnaryOperator<io.tandem.gateway.GatewayOptions> more) {
        gateway = TestSupport.sync(Gateway.attach(vertx, registry, more.apply(TestSupport.options(1).addModel(BundledModel.path())
                .setApiKeys(keys).setAcceptTimeoutMillis(acceptTimeoutMillis).setStreamIdleTimeoutMillis(400).setRetryAfterSeconds(3))));
        http = new Http(gateway.port());
    }

    @AfterEach
    void stop() {
        if (http != null) http.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
        TestSupport.sync(registry.close());
        TestSupport.sync(vertx.close());
    }

    private WorkerRecord worker(String id) {
        WorkerRecord r = new WorkerRecord(id, WorkerRole.DECODE, MODEL, LocalWorkerRegistry.NODE_ID, "127.0.0.1", 0, 256, WorkerLoad.IDLE, 0,
                io.tandem.protocol.WorkerRecord.newEpoch(), TestSupport.simContract(BundledModel.path()), 0);
        TestSupport.sync(registry.register(r));
        TestSupport.sync(vertx.eventBus().consumer(Addresses.control(id), m -> controls.add(m.body())).completion());
        return r;
    }

    private MessageConsumer<GenerateRequest> onGenerate(String id, io.vertx.core.Handler<io.vertx.core.eventbus.Message<GenerateRequest>> h) {
        MessageConsumer<GenerateRequest> c = vertx.eventBus().consumer(Addresses.generate(id), h);
        TestSupport.sync(c.completion());
        return c;
    }

    @Test
    void noWorkerIs503WithRetryAfter() {
        attach(List.of());
        Reply ready = http.get("/ready");
        ready.error(503);
        assertEquals("3", ready.headers().get("Retry-After"));
        assertEquals(0, http.get("/v1/models").json().getJsonArray("data").size());
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        r.error(503);
        assertEquals("3", r.headers().get("Retry-After"));
    }

    @Test
    void aRegisteredWorkerWithoutHandlerIsSkippedThen503() {
        attach(List.of());
        worker("ghost"); // in the registry, but nothing consumes its generate address
        assertEquals(200, http.get("/ready").status());
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        r.error(503);
        assertNotNull(r.headers().get("Retry-After"));
        assertTrue(gateway.dispatcher().router().isSuspect("ghost"));
    }

    @Test
    void aWorkerLeavingBeforeItAcceptsIsGivenUpAtOnce() throws Exception {
        attach(List.of(), 30_000);
        worker("dying");
        AtomicInteger asked = new AtomicInteger();
        onGenerate("dying", m -> asked.incrementAndGet()); // never answers, like a killed process
        long start = System.nanoTime();
        var reply = java.util.concurrent.CompletableFuture.supplyAsync(() -> http.post("/v1/chat/completions", chat(MODEL, "hi")));
        await("the worker to get the request", Duration.ofSeconds(10), () -> asked.get() == 1);
        TestSupport.sync(registry.deregister("dying"));
        Reply r = reply.get(20, java.util.concurrent.TimeUnit.SECONDS);
        r.error(503);
        assertTrue(System.nanoTime() - start < 15_000_000_000L, "not the 30 s accept timeout");
    }

    @Test
    void everyWorkerBusyQueuesTheRequestThen503WhenTheWaitEnds() {
        attach(List.of(), 500, o -> o.setMaxQueueWaitMillis(600));
        AtomicInteger asked = new AtomicInteger();
        for (String id : List.of("w1", "w2", "w3")) {
            worker(id);
            onGenerate(id, m -> {
                asked.incrementAndGet();
                m.fail(ErrorCode.OVERLOADED.code(), "busy");
            });
        }
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        JsonObject e = r.error(503);
        assertTrue(e.getString("message").contains("--max-queue-wait"), e.getString("message"));
        assertEquals("3", r.headers().get("Retry-After"));
        assertTrue(asked.get() > 3, "every worker was asked, then asked again while the request waited: " + asked.get());
        assertEquals(0, gateway.dispatcher().queuedRequests());
    }

    @Test
    void everyWorkerBusyAndTheQueueFullIs429() {
        attach(List.of(), 500, o -> o.setMaxQueue(0));
        AtomicInteger asked = new AtomicInteger();
        for (String id : List.of("w1", "w2")) {
            worker(id);
            onGenerate(id, m -> {
                asked.incrementAndGet();
                m.fail(ErrorCode.OVERLOADED.code(), "busy");
            });
        }
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        assertEquals("overloaded", r.error(429).getString("code"));
        assertEquals("3", r.headers().get("Retry-After"));
        assertEquals(2, asked.get(), "each worker once, then the full queue refuses");
    }

    @Test
    void aQueuedRequestIsServedWhenAWorkerFreesUp() {
        attach(List.of());
        worker("w");
        AtomicInteger asked = new AtomicInteger();
        onGenerate("w", m -> {
            if (asked.incrementAndGet() <= 2) { // busy twice, then it takes the request
                m.fail(ErrorCode.OVERLOADED.code(), "busy");
                return;
            }
            GenerateRequest req = m.body();
            m.reply(null);
            vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Finished(req.requestId(),
                    io.tandem.protocol.FinishReason.STOP, new io.tandem.protocol.Usage(req.promptTokens().length, 0, 0)));
        });
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        assertEquals(200, r.status(), r.body());
        assertEquals(3, asked.get());
    }

    @Test
    void overloadedThenAnotherWorkerServes() {
        attach(List.of());
        worker("a-busy");
        onGenerate("a-busy", m -> m.fail(ErrorCode.OVERLOADED.code(), "busy"));
        worker("b-ok");
        onGenerate("b-ok", m -> {
            GenerateRequest req = m.body();
            m.reply(null);
            vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Tokens(req.requestId(), 0, new int[]{300, 301}));
            vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Finished(req.requestId(),
                    io.tandem.protocol.FinishReason.STOP, new io.tandem.protocol.Usage(req.promptTokens().length, 2, 0)));
        });
        // equal load: ties go in id order, so a-busy is asked first and b-ok on the retry
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        assertEquals(200, r.status(), r.body());
        assertEquals(2, r.json().getJsonObject("usage").getInteger("completion_tokens"));
        assertEquals("stop", r.json().getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
    }

    @Test
    void aSilentWorkerTimesOutAndIsCancelled() {
        attach(List.of(), 500, o -> o.setMigrationLimit(0));
        worker("mute");
        onGenerate("mute", m -> m.reply(null)); // accepts, then never sends a token, not even a keep-alive
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        assertEquals("timeout", r.error(504).getString("code"));
        await("a cancel on the worker's control address", Duration.ofSeconds(5),
                () -> controls.stream().anyMatch(c -> c instanceof ControlMessage.Cancel));

        controls.clear();
        Reply s = http.post("/v1/chat/completions", chat(MODEL, "hi").put("stream", true));
        List<String> events = s.sse();
        JsonObject last = new JsonObject(events.getLast());
        assertEquals("timeout", last.getJsonObject("error").getString("code"), "an error after streaming began is a final event");
        await("a cancel", Duration.ofSeconds(5), () -> controls.stream().anyMatch(c -> c instanceof ControlMessage.Cancel));
        assertEquals(0, gateway.dispatcher().activeStreams());
    }

    @Test
    void aClientThatLeavesTheQueueLeavesAtOnceAndTheQueueMovesOn() throws Exception {
        attach(List.of(), 500, o -> o.setMaxQueueWaitMillis(60_000));
        worker("w");
        java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
        onGenerate("w", m -> {
            if (busy.get()) {
                m.fail(ErrorCode.OVERLOADED.code(), "busy");
                return;
            }
            GenerateRequest req = m.body();
            m.reply(null);
            vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Finished(req.requestId(),
                    io.tandem.protocol.FinishReason.STOP, new io.tandem.protocol.Usage(req.promptTokens().length, 0, 0)));
        });
        try (RawHttp leaving = new RawHttp(gateway.port(), 0)) {
            leaving.post("/v1/chat/completions", chat(MODEL, "I will not wait"));
            await("the request to wait in the queue", Duration.ofSeconds(10), () -> gateway.dispatcher().queuedRequests() == 1);
        }
        await("the queue to let it go", Duration.ofSeconds(5), () -> gateway.dispatcher().queuedRequests() == 0
                && gateway.dispatcher().activeStreams() == 0);
        var next = java.util.concurrent.CompletableFuture.supplyAsync(() -> http.post("/v1/chat/completions", chat(MODEL, "me next")));
        await("the next request to wait", Duration.ofSeconds(10), () -> gateway.dispatcher().queuedRequests() == 1);
        busy.set(false);
        Reply r = next.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(200, r.status(), r.body());
    }

    @Test
    void aStalledStreamMigratesUntilTheLimitThen504() {
        attach(List.of(), 500, o -> o.setMigrationLimit(2));
        worker("mute");
        List<GenerateRequest> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        onGenerate("mute", m -> {
            asked.add(m.body());
            m.reply(null);
            if (asked.size() == 1) { // the first attempt sends two tokens, then hangs
                vertx.eventBus().send(m.body().streamAddress(), new io.tandem.protocol.StreamMessage.Tokens(m.body().requestId(), 0, new int[]{300, 301}));
            }
        });
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        JsonObject e = r.error(504);
        assertTrue(e.getString("message").contains("migration limit"), e.getString("message"));
        assertEquals(3, asked.size(), "the first attempt and two migrations");
        assertArrayEquals(new int[]{300, 301}, asked.get(1).resumedTokens(), "the migration resumes after the delivered tokens");
        assertArrayEquals(new int[]{300, 301}, asked.get(2).resumedTokens());
        assertEquals(3, asked.stream().map(GenerateRequest::requestId).distinct().count(), "each attempt has its own id");
        assertEquals(100, asked.get(0).keepaliveMillis(), "keep-alives every quarter of the stall timeout");
        assertEquals(2.0, gateway.meters().counter("tandem.migrations", "reason", "stalled").count());
    }

    @Test
    void keepAlivesTellAWaitingRequestFromAStalledOne() {
        attach(List.of());
        worker("queued");
        onGenerate("queued", m -> {
            GenerateRequest req = m.body();
            m.reply(null);
            // the request waits in the worker's queue for 10 stall timeouts, with a keep-alive every 100 ms
            long[] sent = {0};
            vertx.setPeriodic(100, t -> {
                if (++sent[0] < 40) {
                    vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Alive(req.requestId()));
                    return;
                }
                vertx.cancelTimer(t);
                vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Tokens(req.requestId(), 0, new int[]{300}));
                vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Finished(req.requestId(),
                        io.tandem.protocol.FinishReason.STOP, new io.tandem.protocol.Usage(req.promptTokens().length, 1, 0)));
            });
        });
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi"));
        assertEquals(200, r.status(), r.body());
        assertEquals(1, r.json().getJsonObject("usage").getInteger("completion_tokens"));
        assertEquals(0.0, gateway.meters().find("tandem.migrations").counters().stream().mapToDouble(c -> c.count()).sum());
    }

    @Test
    void creditsAreGrantedAsTokensAreTaken() {
        attach(List.of());
        worker("counted");
        onGenerate("counted", m -> {
            GenerateRequest req = m.body();
            m.reply(null);
            assertEquals(32, req.initialCredits());
            for (int i = 0; i < 40; i++) {
                vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Tokens(req.requestId(), i, new int[]{300 + i}));
            }
            vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Finished(req.requestId(),
                    io.tandem.protocol.FinishReason.LENGTH, new io.tandem.protocol.Usage(req.promptTokens().length, 40, 0)));
        });
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi").put("stream", true));
        r.sse();
        // credits travel to the worker's control address asynchronously: the response may end before they arrive
        java.util.function.IntSupplier granted = () -> controls.stream().filter(c -> c instanceof ControlMessage.Credit)
                .mapToInt(c -> ((ControlMessage.Credit) c).tokens()).sum();
        await("credits for the written tokens", Duration.ofSeconds(5), () -> granted.getAsInt() >= 32);
        assertTrue(granted.getAsInt() <= 40, "credits returned for written tokens: " + granted.getAsInt());
    }

    @Test
    void aTemplateRaisingIs400WithItsMessage() {
        gateway = TestSupport.sync(Gateway.attach(vertx, registry, TestSupport.options(1)
                .addModel(TestSupport.repoRoot().resolve("testdata/models/tiny-llama-spm-f32.gguf"))));
        http = new Http(gateway.port());
        JsonObject req = new JsonObject().put("model", "tiny-llama-spm-f32").put("messages", new io.vertx.core.json.JsonArray()
                .add(new JsonObject().put("role", "user").put("content", "one"))
                .add(new JsonObject().put("role", "user").put("content", "two")));
        JsonObject e = http.post("/v1/chat/completions", req).error(400);
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...", e.getString("message"));
        assertEquals("messages", e.getString("param"));
    }

    @Test
    void logprobsFromTheWorkerAreReturnedInOpenAiShape() {
        attach(List.of());
        worker("lp");
        onGenerate("lp", m -> {
            GenerateRequest req = m.body();
            m.reply(null);
            io.tandem.protocol.TokenLogprobs[] lps = {
                    new io.tandem.protocol.TokenLogprobs(300, -0.25f, new int[]{300, 301}, new float[]{-0.25f, -2f})};
            vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Tokens(req.requestId(), 0, new int[]{300}, lps));
            vertx.eventBus().send(req.streamAddress(), new io.tandem.protocol.StreamMessage.Finished(req.requestId(),
                    io.tandem.protocol.FinishReason.LENGTH, new io.tandem.protocol.Usage(req.promptTokens().length, 1, 0)));
        });
        Reply r = http.post("/v1/chat/completions", chat(MODEL, "hi").put("logprobs", true).put("top_logprobs", 2).put("max_tokens", 1));
        assertEquals(200, r.status(), r.body());
        JsonObject content = r.json().getJsonArray("choices").getJsonObject(0).getJsonObject("logprobs").getJsonArray("content").getJsonObject(0);
        assertEquals(-0.25, content.getDouble("logprob"));
        assertEquals(2, content.getJsonArray("top_logprobs").size());
        assertFalse(content.getString("token").isEmpty());
        assertEquals(-2.0, content.getJsonArray("top_logprobs").getJsonObject(1).getDouble("logprob"));
    }

    @Test
    void apiKeys() {
        attach(List.of("sk-one", "sk-two"));
        Reply missing = http.get("/v1/models");
        assertEquals("invalid_api_key", missing.error(401).getString("code"));
        io.vertx.core.MultiMap wrong = io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer sk-three");
        http.send(io.vertx.core.http.HttpMethod.GET, "/v1/models", null, wrong).error(401);
        io.vertx.core.MultiMap right = io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer sk-two");
        assertEquals(200, http.send(io.vertx.core.http.HttpMethod.GET, "/v1/models", null, right).status());
        http.post("/v1/chat/completions", chat(MODEL, "hi")).error(401);
        assertEquals(200, http.get("/health").status());
        assertEquals(200, http.get("/metrics").status());
        assertEquals(503, http.get("/ready").status(), "open, but no worker");
    }
}
