package io.tandem.gateway.grpc;

import io.micrometer.core.instrument.Counter;
import io.tandem.engine.Engine;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcClient;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;
import io.tandem.worker.DeployedWorker;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.tandem.gateway.it.TestSupport.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The gRPC API on the embedded default (the CPU engine, the bundled model): greedy text over KServe v2 is the text
 * {@code /v1/completions} and {@code /v1/chat/completions} give, streamed or not; a client that stops reading pauses
 * the worker, and cancelling its stream frees the request's KV blocks on the worker.
 */
class GrpcCpuEngineTest {

    static Gateway gateway;
    static Http http;
    static GrpcTestClient grpc;
    static String model;
    static Engine engine;
    static final List<String> PROMPTS = List.of("Once upon a time", "The fortune says", "A wise person");

    @BeforeAll
    static void start() {
        gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setSseWriteQueueBytes(1024));
        http = new Http(gateway.port());
        grpc = new GrpcTestClient(gateway.grpcPort(), 1 << 20, 1024);
        model = http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
        engine = gateway.workers().stream().filter(w -> w.record().role().servesGenerate())
                .map(DeployedWorker::engine).findFirst().orElseThrow();
    }

    @AfterAll
    static void stop() {
        if (grpc != null) grpc.close();
        if (http != null) http.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @AfterEach
    void nothingLeftRunning() {
        await("the engine to hold nothing", Duration.ofSeconds(15), () -> engine.activeRequests() == 0);
        await("the gateway to hold no stream", Duration.ofSeconds(5), () -> gateway.dispatcher().activeStreams() == 0);
    }

    @Test
    void greedyTextEqualsTheHttpApisStreamedOrNot() {
        for (String prompt : PROMPTS) {
            ModelInferRequest.Builder r = KServe.request(model, prompt)
                    .putParameters("max_tokens", KServe.int64(24)).putParameters("temperature", KServe.dbl(0));
            JsonObject body = new JsonObject().put("model", model).put("prompt", prompt).put("max_tokens", 24).put("temperature", 0);
            String viaHttp = completionText(body);
            assertFalse(viaHttp.isEmpty());
            assertEquals(viaHttp, sseText(body.copy().put("stream", true)), "HTTP streamed == HTTP whole");

            assertEquals(viaHttp, KServe.text(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, r.build()).single()), prompt);
            assertEquals(viaHttp, streamed(KServe.stream(r.clone(), true).build()), prompt + " (ModelStreamInfer)");
        }
    }

    @Test
    void stopStringsEndTheTextAsOverHttp() {
        JsonObject body = new JsonObject().put("model", model).put("prompt", PROMPTS.getFirst()).put("max_tokens", 40).put("temperature", 0);
        String full = completionText(body);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 2);
        String viaHttp = completionText(body.copy().put("stop", stop));
        assertTrue(viaHttp.length() < full.length(), "the stop string cut the text");
        ModelInferRequest r = KServe.request(model, PROMPTS.getFirst()).putParameters("max_tokens", KServe.int64(40))
                .putParameters("temperature", KServe.dbl(0)).putParameters("stop", KServe.string(stop)).build();
        ModelInferResponse whole = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, r).single();
        assertEquals(viaHttp, KServe.text(whole));
        assertEquals("stop", whole.getParametersOrThrow("finish_reason").getStringParam());
        assertEquals(viaHttp, streamed(KServe.stream(r.toBuilder(), true).build()));
    }

    @Test
    void chatTemplateRendersTheConversationAsHttpChatDoes() {
        JsonArray messages = new JsonArray()
                .add(new JsonObject().put("role", "system").put("content", "You tell fortunes."))
                .add(new JsonObject().put("role", "user").put("content", "What does my future hold?"));
        JsonObject body = new JsonObject().put("model", model).put("messages", messages).put("max_tokens", 24).put("temperature", 0);
        var r = http.post("/v1/chat/completions", body);
        assertEquals(200, r.status(), r.body());
        String viaHttp = r.json().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");

        ModelInferRequest.Builder chat = KServe.request(model, messages.encode()).putParameters("chat_template", KServe.bool(true))
                .putParameters("max_tokens", KServe.int64(24)).putParameters("temperature", KServe.dbl(0));
        assertEquals(viaHttp, KServe.text(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, chat.build()).single()));
        assertEquals(viaHttp, streamed(KServe.stream(chat.clone(), true).build()));
        // without chat_template the same text is a plain prompt: another answer
        ModelInferRequest.Builder plain = KServe.request(model, messages.encode())
                .putParameters("max_tokens", KServe.int64(24)).putParameters("temperature", KServe.dbl(0));
        assertEquals(completionText(new JsonObject().put("model", model).put("prompt", messages.encode()).put("max_tokens", 24)
                .put("temperature", 0)), KServe.text(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, plain.build()).single()));

        // a bad conversation gets the chat endpoint's message
        JsonArray badRole = new JsonArray().add(new JsonObject().put("role", "wizard").put("content", "hi"));
        var bad = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.request(model, badRole.encode())
                .putParameters("chat_template", KServe.bool(true)).build());
        assertEquals(GrpcStatus.INVALID_ARGUMENT, bad.status());
        assertEquals(http.post("/v1/chat/completions", new JsonObject().put("model", model).put("messages", badRole)).error(400)
                .getString("message"), bad.message());
    }

    @Test
    void aClientThatStopsReadingPausesTheWorkerAndItsCancelFreesTheKvBlocks() throws Exception {
        double cancelledBefore = workerOutcomes("cancelled");
        ModelInferRequest request = KServe.stream(KServe.sampling(KServe.request(model, PROMPTS.getFirst()),
                new JsonObject().put("max_tokens", 200).put("ignore_eos", true).put("temperature", 0)), true).build();
        GrpcClientRequest<ModelInferRequest, ModelStreamInferResponse> call = grpc.open(GRPCInferenceServiceGrpcClient.ModelStreamInfer);
        CompletableFuture<Void> first = new CompletableFuture<>();
        grpc.vertx().runOnContext(v -> {
            call.response().onSuccess(resp -> resp.handler(m -> {
                resp.pause(); // and never reads again: the HTTP/2 window (1 KiB) fills, then the gateway's write queue
                first.complete(null);
            }));
            call.end(request);
        });
        first.get(30, TimeUnit.SECONDS);
        await("the worker to run out of credits", Duration.ofSeconds(20), () -> {
            List<GenerationStream> streams = gateway.dispatcher().streams();
            return streams.size() == 1 && streams.getFirst().workerCredits() == 0;
        });
        GenerationStream stream = gateway.dispatcher().streams().getFirst();
        assertTrue(stream.receivedTokens() < 200, "paused long before its 200 tokens: " + stream.receivedTokens());
        assertEquals(1, engine.activeRequests(), "held, not finished");
        assertTrue(activeBlocks() > 0, "the paused request holds its KV blocks");

        grpc.vertx().runOnContext(v -> call.cancel());
        await("the engine to drop the request", Duration.ofSeconds(10), () -> engine.activeRequests() == 0);
        await("the worker to count a cancelled request", Duration.ofSeconds(5), () -> workerOutcomes("cancelled") == cancelledBefore + 1);
        await("its KV blocks to be free, as /metrics shows", Duration.ofSeconds(5), () -> activeBlocks() == 0);
    }

    /** A client's deadline (grpc-timeout) is the gateway's to keep: the call ends and the worker drops the request. */
    @Test
    void aCallPastItsDeadlineEndsWithDeadlineExceededAndFreesTheKvBlocks() throws Exception {
        double cancelledBefore = workerOutcomes("cancelled");
        double deadlinesBefore = grpcCalls("DEADLINE_EXCEEDED");
        ModelInferRequest request = KServe.stream(KServe.sampling(KServe.request(model, PROMPTS.getLast()),
                new JsonObject().put("max_tokens", 200).put("ignore_eos", true).put("temperature", 0)), true).build();
        GrpcClientRequest<ModelInferRequest, ModelStreamInferResponse> call = grpc.open(GRPCInferenceServiceGrpcClient.ModelStreamInfer);
        CompletableFuture<Void> first = new CompletableFuture<>();
        grpc.vertx().runOnContext(v -> {
            call.timeout(1500, TimeUnit.MILLISECONDS); // sent as grpc-timeout; this client does not enforce it itself
            call.response().onSuccess(resp -> resp.handler(m -> {
                resp.pause(); // never reads again, so only the deadline can end the call
                first.complete(null);
            }));
            call.end(request);
        });
        first.get(30, TimeUnit.SECONDS);
        await("the gateway to end the call at its deadline", Duration.ofSeconds(20),
                () -> grpcCalls("DEADLINE_EXCEEDED") == deadlinesBefore + 1);
        await("the engine to drop the request", Duration.ofSeconds(10), () -> engine.activeRequests() == 0);
        await("the worker to count a cancelled request", Duration.ofSeconds(5), () -> workerOutcomes("cancelled") == cancelledBefore + 1);
        await("its KV blocks to be free, as /metrics shows", Duration.ofSeconds(5), () -> activeBlocks() == 0);
    }

    /** The text of a ModelStreamInfer call with one request: its pieces, concatenated; checks the final flag. */
    private static String streamed(ModelInferRequest request) {
        var reply = grpc.call(GRPCInferenceServiceGrpcClient.ModelStreamInfer, List.of(request), null, m -> false);
        assertEquals(GrpcStatus.OK, reply.status(), reply.message());
        List<ModelInferResponse> pieces = reply.messages().stream().map(ModelStreamInferResponse::getInferResponse).toList();
        assertTrue(KServe.isFinal(pieces.getLast()));
        assertEquals(1, pieces.stream().filter(KServe::isFinal).count());
        return pieces.stream().map(KServe::text).collect(Collectors.joining());
    }

    private static String completionText(JsonObject body) {
        var r = http.post("/v1/completions", body);
        assertEquals(200, r.status(), r.body());
        return r.json().getJsonArray("choices").getJsonObject(0).getString("text");
    }

    private static String sseText(JsonObject body) {
        return http.post("/v1/completions", body).sseJson().stream()
                .map(c -> c.getJsonArray("choices"))
                .filter(c -> !c.isEmpty())
                .map(c -> c.getJsonObject(0).getString("text"))
                .collect(Collectors.joining());
    }

    private static double workerOutcomes(String outcome) {
        return gateway.meters().find("tandem.worker.requests").tag("outcome", outcome).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private static double grpcCalls(String code) {
        return gateway.meters().find("tandem.gateway.grpc.requests").tag("code", code).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    /** {@code tandem_worker_active_blocks}, summed over the workers, as /metrics shows it. */
    private static double activeBlocks() {
        double sum = 0;
        for (String line : http.get("/metrics").body().split("\n")) {
            if (line.startsWith("tandem_worker_active_blocks{")) sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return sum;
    }
}
