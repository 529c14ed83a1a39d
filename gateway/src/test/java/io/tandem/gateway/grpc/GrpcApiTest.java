package io.tandem.gateway.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.DoubleValue;
import com.google.protobuf.UInt32Value;
import io.micrometer.core.instrument.Counter;
import io.tandem.engine.Engine;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcClient;
import io.tandem.protocol.grpc.inference.InferTensorContents;
import io.tandem.protocol.grpc.inference.ModelConfigRequest;
import io.tandem.protocol.grpc.inference.ModelConfigResponse;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelMetadataRequest;
import io.tandem.protocol.grpc.inference.ModelMetadataResponse;
import io.tandem.protocol.grpc.inference.ModelReadyRequest;
import io.tandem.protocol.grpc.inference.ModelStatisticsRequest;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;
import io.tandem.protocol.grpc.inference.RepositoryIndexRequest;
import io.tandem.protocol.grpc.inference.ServerLiveRequest;
import io.tandem.protocol.grpc.inference.ServerMetadataRequest;
import io.tandem.protocol.grpc.inference.ServerReadyRequest;
import io.tandem.protocol.grpc.v1.GenerateGrpcClient;
import io.tandem.protocol.grpc.v1.GenerateRequest;
import io.tandem.protocol.grpc.v1.GenerateResponse;
import io.tandem.protocol.grpc.v1.SamplingParameters;
import io.tandem.worker.DeployedWorker;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.reflection.v1.ServerReflectionRequest;
import io.vertx.grpc.reflection.v1.ServerReflectionResponse;
import io.vertx.grpc.reflection.v1.ServiceResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.tandem.gateway.it.TestSupport.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every method of the gateway's gRPC API with a Vert.x gRPC client, against an embedded gateway on the simulated
 * engine (the bundled model's tokenizer): KServe v2's health, metadata, config, ModelInfer and ModelStreamInfer;
 * tandem.v1.Generate; reflection; bad input with the HTTP API's messages; cancellation on the worker;
 * metrics per method.
 */
class GrpcApiTest {

    static Gateway gateway;
    static Http http;
    static GrpcTestClient grpc;
    static String model;
    static Engine engine;
    static final long MAX_MESSAGE_BYTES = 64 * 1024;

    @BeforeAll
    static void start() {
        gateway = TestSupport.start(TestSupport.options(4).setGrpcMaxMessageBytes(MAX_MESSAGE_BYTES));
        http = new Http(gateway.port());
        grpc = new GrpcTestClient(gateway.grpcPort());
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
        await("no generation in flight", Duration.ofSeconds(5),
                () -> gateway.meters().get("tandem.gateway.in.flight.requests").gauge().value() == 0);
    }

    @Test
    void healthAndMetadata() {
        assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ServerLive, ServerLiveRequest.getDefaultInstance()).single().getLive());
        assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance()).single().getReady());
        assertTrue(modelReady(model, ""));
        assertTrue(modelReady(model, "1"));
        assertFalse(modelReady(model, "2"), "a version Tandem does not have");
        assertFalse(modelReady("nope", ""), "an unknown model is not ready (as Triton says)");

        var server = grpc.call(GRPCInferenceServiceGrpcClient.ServerMetadata, ServerMetadataRequest.getDefaultInstance()).single();
        assertEquals("tandem", server.getName());
        assertFalse(server.getVersion().isEmpty());

        ModelMetadataResponse meta = grpc.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
                ModelMetadataRequest.newBuilder().setName(model).build()).single();
        assertEquals(model, meta.getName());
        assertEquals(List.of("1"), meta.getVersionsList());
        assertEquals(Map.of("text_input", "BYTES", "stream", "BOOL", "sampling_parameters", "BYTES"),
                meta.getInputsList().stream().collect(Collectors.toMap(t -> t.getName(), t -> t.getDatatype())));
        assertEquals("text_output", meta.getOutputs(0).getName());
        assertEquals("BYTES", meta.getOutputs(0).getDatatype());

        ModelConfigResponse config = grpc.call(GRPCInferenceServiceGrpcClient.ModelConfig,
                ModelConfigRequest.newBuilder().setName(model).setVersion("1").build()).single();
        assertEquals(model, config.getConfig().getName());
        assertTrue(config.getConfig().getModelTransactionPolicy().getDecoupled(), "decoupled: many responses per request");
        assertEquals(3, config.getConfig().getInputCount());

        var unknown = grpc.call(GRPCInferenceServiceGrpcClient.ModelMetadata, ModelMetadataRequest.newBuilder().setName("nope").build());
        assertEquals(GrpcStatus.NOT_FOUND, unknown.status());
        assertEquals("The model 'nope' does not exist or is not served here", unknown.message());
        assertEquals(GrpcStatus.NOT_FOUND, grpc.call(GRPCInferenceServiceGrpcClient.ModelConfig,
                ModelConfigRequest.newBuilder().setName(model).setVersion("7").build()).status());
    }

    @Test
    void otherMethodsAreUnimplemented() {
        var stats = grpc.call(GRPCInferenceServiceGrpcClient.ModelStatistics, ModelStatisticsRequest.getDefaultInstance());
        assertEquals(GrpcStatus.UNIMPLEMENTED, stats.status());
        assertTrue(stats.message().contains("ModelStatistics"), stats.message());
        assertEquals(GrpcStatus.UNIMPLEMENTED, grpc.call(GRPCInferenceServiceGrpcClient.RepositoryIndex,
                RepositoryIndexRequest.getDefaultInstance()).status());
    }

    @Test
    void modelInferAnswersOnceWithTheWholeText() {
        JsonObject sampling = new JsonObject().put("temperature", 0).put("max_tokens", 12).put("ignore_eos", true);
        ModelInferResponse r = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer,
                KServe.sampling(KServe.request(model, "Tell me a fortune."), sampling).build()).single();
        assertEquals(model, r.getModelName());
        assertEquals("req-1", r.getId(), "the request's id is echoed");
        assertEquals("1", r.getModelVersion());
        assertEquals(List.of(1L), r.getOutputs(0).getShapeList());
        assertEquals("BYTES", r.getOutputs(0).getDatatype());
        assertEquals("length", r.getParametersOrThrow("finish_reason").getStringParam());
        assertEquals(12, r.getParametersOrThrow("completion_tokens").getInt64Param());
        assertTrue(r.getParametersOrThrow("prompt_tokens").getInt64Param() > 0);
        String text = KServe.text(r);
        assertEquals(httpText(new JsonObject().put("prompt", "Tell me a fortune.").mergeIn(sampling)), text);

        // the same request as raw_input_contents: a 4-byte little-endian length, then the bytes (Triton's layout)
        ModelInferRequest raw = KServe.sampling(ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("text_input").setDatatype("BYTES").addShape(1)), sampling)
                .build();
        ModelInferRequest.Builder asRaw = raw.toBuilder().clearInputs();
        for (ModelInferRequest.InferInputTensor in : raw.getInputsList()) asRaw.addInputs(in.toBuilder().clearContents());
        asRaw.addRawInputContents(Tensors.rawBytes(List.of(ByteString.copyFromUtf8("Tell me a fortune."))))
                .addRawInputContents(Tensors.rawBytes(List.of(ByteString.copyFromUtf8(sampling.encode()))));
        assertEquals(text, KServe.text(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, asRaw.build()).single()));
    }

    @Test
    void modelStreamInferStreamsPiecesThenAFinalResponse() {
        JsonObject sampling = new JsonObject().put("temperature", 0).put("max_tokens", 16).put("ignore_eos", true);
        var reply = grpc.call(GRPCInferenceServiceGrpcClient.ModelStreamInfer,
                List.of(KServe.stream(KServe.sampling(KServe.request(model, "Stream me"), sampling), true).build()), null, m -> false);
        assertEquals(GrpcStatus.OK, reply.status(), reply.message());
        List<ModelInferResponse> pieces = reply.messages().stream().map(m -> {
            assertEquals("", m.getErrorMessage());
            return m.getInferResponse();
        }).toList();
        assertTrue(pieces.size() > 2, "one response per piece: " + pieces.size());
        for (int i = 0; i < pieces.size(); i++) {
            assertEquals(i == pieces.size() - 1, KServe.isFinal(pieces.get(i)), "triton_final_response on the last only");
            assertEquals("req-1", pieces.get(i).getId());
        }
        String streamed = pieces.stream().map(KServe::text).collect(Collectors.joining());
        assertEquals(httpText(new JsonObject().put("prompt", "Stream me").mergeIn(sampling)), streamed);

        // stream=false on the stream: one response with the whole text
        var whole = grpc.call(GRPCInferenceServiceGrpcClient.ModelStreamInfer,
                List.of(KServe.stream(KServe.sampling(KServe.request(model, "Stream me"), sampling), false).build()), null, m -> false);
        assertEquals(1, whole.messages().size());
        assertTrue(KServe.isFinal(whole.messages().getFirst().getInferResponse()));
        assertEquals(streamed, KServe.text(whole.messages().getFirst().getInferResponse()));
    }

    @Test
    void oneStreamCarriesSeveralRequestsAndAnErrorDoesNotEndIt() {
        JsonObject sampling = new JsonObject().put("temperature", 0).put("max_tokens", 6).put("ignore_eos", true);
        var reply = grpc.call(GRPCInferenceServiceGrpcClient.ModelStreamInfer, List.of(
                KServe.stream(KServe.sampling(KServe.request(model, "first"), sampling), true).setId("a").build(),
                KServe.request(model, "").setId("b").build(),
                KServe.stream(KServe.sampling(KServe.request(model, "third"), sampling), false).setId("c").build()), null, m -> false);
        assertEquals(GrpcStatus.OK, reply.status(), reply.message());
        List<ModelStreamInferResponse> errors = reply.messages().stream().filter(m -> !m.getErrorMessage().isEmpty()).toList();
        assertEquals(1, errors.size(), "the empty prompt fails alone: " + errors);
        assertEquals("b", errors.getFirst().getInferResponse().getId());
        assertEquals("input 'text_input' is empty; it must hold the prompt", errors.getFirst().getErrorMessage());
        Map<String, Long> finals = reply.messages().stream().filter(m -> m.getErrorMessage().isEmpty())
                .filter(m -> KServe.isFinal(m.getInferResponse()))
                .collect(Collectors.groupingBy(m -> m.getInferResponse().getId(), Collectors.counting()));
        assertEquals(Map.of("a", 1L, "c", 1L), finals, "every request ends with one final response");
    }

    @Test
    void badInputIsInvalidArgumentWithTheHttpApisMessage() {
        assertInvalid(KServe.request(model, ""), "input 'text_input' is empty; it must hold the prompt");
        assertInvalid(ModelInferRequest.newBuilder().setModelName(model).addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                        .setName("text_input").setDatatype("FP32").addShape(1).setContents(InferTensorContents.newBuilder().addFp32Contents(1))),
                "input 'text_input' must have datatype BYTES, got 'FP32'");
        assertInvalid(ModelInferRequest.newBuilder().setModelName(model).addInputs(KServe.bytesInput("text_input",
                        ByteString.copyFromUtf8("hello")).setShape(0, 2)),
                "input 'text_input' has shape [2] (2 element(s)) but its data holds 1");
        assertInvalid(KServe.request(model, "hi").putParameters("beam_width", KServe.int64(2)),
                "unknown parameter 'beam_width'; the parameters are max_tokens, temperature, top_p, seed, stop, slo_ttft_ms, slo_tpot_ms and chat_template");
        assertInvalid(KServe.request(model, "hi").addInputs(KServe.boolInput("exclude_input_in_output", true)),
                "unknown input 'exclude_input_in_output'; the inputs are text_input (BYTES), stream (BOOL) and sampling_parameters (BYTES, a JSON object)");
        assertInvalid(KServe.sampling(KServe.request(model, "hi"), new JsonObject().put("best_of", 2)),
                "unknown key 'best_of' in sampling_parameters; the keys are max_tokens, temperature, top_p, top_k, min_p, seed, stop, presence_penalty, frequency_penalty, ignore_eos");
        assertInvalid(KServe.request(model, "hi").putParameters("chat_template", KServe.bool(true)),
                "with parameter 'chat_template' true, input 'text_input' must be a JSON array of {\"role\", \"content\"} messages");
        assertInvalid(KServe.stream(KServe.request(model, "hi"), true),
                "ModelInfer answers once: send stream=true on ModelStreamInfer, or stream=false here");

        // values the request parser judges: the very message /v1/completions gives
        assertSameAsHttp(KServe.request(model, "hi").putParameters("temperature", KServe.dbl(3)), new JsonObject().put("temperature", 3.0));
        assertSameAsHttp(KServe.request(model, "hi").putParameters("max_tokens", KServe.string("ten")), new JsonObject().put("max_tokens", "ten"));
        assertSameAsHttp(KServe.request(model, "hi").putParameters("max_tokens", KServe.int64(0)), new JsonObject().put("max_tokens", 0));
        assertSameAsHttp(KServe.request(model, "hi").putParameters("top_p", KServe.dbl(0)), new JsonObject().put("top_p", 0.0));
        assertSameAsHttp(KServe.sampling(KServe.request(model, "hi"), new JsonObject().put("stop", new JsonArray().add(""))),
                new JsonObject().put("stop", new JsonArray().add("")));
        assertSameAsHttp(KServe.request(model, "hi").putParameters("max_tokens", KServe.int64(1_000_000)),
                new JsonObject().put("max_tokens", 1_000_000));

        var unknown = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.request("nope", "hi").build());
        assertEquals(GrpcStatus.NOT_FOUND, unknown.status());
        assertEquals("The model 'nope' does not exist or is not served here", unknown.message());
    }

    @Test
    void anOversizedMessageIsResourceExhausted() {
        String big = "x".repeat((int) MAX_MESSAGE_BYTES + 1);
        var reply = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.request(model, big).build());
        assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, reply.status());
        assertEquals("The request message is larger than the limit of " + MAX_MESSAGE_BYTES + " bytes (--grpc-max-message-bytes)",
                reply.message());
        // the server took the next call as usual
        assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ServerLive, ServerLiveRequest.getDefaultInstance()).single().getLive());
    }

    @Test
    void cancellingAStreamCancelsTheRequestOnTheWorker() {
        double cancelledBefore = workerOutcomes("cancelled");
        JsonObject sampling = new JsonObject().put("temperature", 0).put("max_tokens", 240).put("ignore_eos", true);
        // 240 tokens at 4 ms would stream for a second: the client cancels after its first piece (the KV side of this is
        // in GrpcCpuEngineTest: the simulated engine holds no KV cache)
        var reply = grpc.call(GRPCInferenceServiceGrpcClient.ModelStreamInfer,
                List.of(KServe.stream(KServe.sampling(KServe.request(model, "A long one, please"), sampling), true).build()), null,
                m -> true);
        assertEquals(GrpcStatus.CANCELLED, reply.status());
        assertEquals(1, reply.messages().size());
        assertEquals("", reply.messages().getFirst().getErrorMessage());
        assertFalse(KServe.isFinal(reply.messages().getFirst().getInferResponse()));
        await("the engine to drop the request", Duration.ofSeconds(5), () -> engine.activeRequests() == 0);
        await("the worker to count it cancelled", Duration.ofSeconds(5), () -> workerOutcomes("cancelled") == cancelledBefore + 1);
        await("the call to be counted CANCELLED", Duration.ofSeconds(5), () -> http.get("/metrics").body().contains(
                "tandem_gateway_grpc_requests_total{code=\"CANCELLED\",method=\"inference.GRPCInferenceService/ModelStreamInfer\"}"));

        // the token service alike
        double before = workerOutcomes("cancelled");
        var tokens = grpc.call(GenerateGrpcClient.Generate, List.of(GenerateRequest.newBuilder().setModel(model)
                .addAllPromptTokenIds(List.of(1, 300, 301, 302))
                .setSampling(SamplingParameters.newBuilder().setMaxTokens(UInt32Value.of(240)).setIgnoreEos(true).setTemperature(DoubleValue.of(0))).build()),
                null, m -> true);
        assertEquals(GrpcStatus.CANCELLED, tokens.status());
        assertFalse(tokens.messages().getFirst().hasFinish());
        await("the engine to drop the token request", Duration.ofSeconds(5), () -> engine.activeRequests() == 0);
        await("the worker to count it cancelled", Duration.ofSeconds(5), () -> workerOutcomes("cancelled") == before + 1);
    }

    @Test
    void theTokenServiceStreamsTokenIdsAndLogprobs() {
        List<Integer> prompt = List.of(1, 300, 301, 302);
        var reply = grpc.call(GenerateGrpcClient.Generate, GenerateRequest.newBuilder().setModel(model).addAllPromptTokenIds(prompt)
                .setLogprobs(UInt32Value.of(2)).setSampling(SamplingParameters.newBuilder().setMaxTokens(UInt32Value.of(10)).setIgnoreEos(true).setTemperature(DoubleValue.of(0))).build());
        assertEquals(GrpcStatus.OK, reply.status(), reply.message());
        List<Integer> ids = reply.messages().stream().flatMap(m -> m.getTokenIdsList().stream()).toList();
        assertEquals(10, ids.size());
        for (GenerateResponse m : reply.messages()) {
            assertEquals(m.getTokenIdsCount(), m.getLogprobsCount(), "one logprob entry per token");
            m.getLogprobsList().forEach(lp -> assertEquals(2, lp.getTopTokenIdsCount()));
        }
        GenerateResponse last = reply.messages().getLast();
        assertTrue(last.hasFinish());
        assertEquals(io.tandem.protocol.grpc.v1.FinishReason.FINISH_REASON_LENGTH, last.getFinish().getReason());
        assertEquals(4, last.getFinish().getUsage().getPromptTokens());
        assertEquals(10, last.getFinish().getUsage().getCompletionTokens());
        assertEquals(1, reply.messages().stream().filter(GenerateResponse::hasFinish).count());

        // the same ids /v1/completions generates for the same token-id prompt
        JsonObject body = new JsonObject().put("model", model).put("prompt", new JsonArray(List.copyOf(prompt))).put("max_tokens", 10)
                .put("ignore_eos", true).put("temperature", 0).put("logprobs", 0).put("return_tokens_as_token_ids", true);
        List<Integer> httpIds = http.post("/v1/completions", body).json().getJsonArray("choices").getJsonObject(0)
                .getJsonObject("logprobs").getJsonArray("tokens").stream()
                .map(t -> Integer.parseInt(t.toString().substring("token_id:".length()))).toList();
        assertEquals(httpIds, ids);

        // a stop token id ends the sequence without being returned
        int stop = ids.get(3);
        var stopped = grpc.call(GenerateGrpcClient.Generate, GenerateRequest.newBuilder().setModel(model).addAllPromptTokenIds(prompt)
                .setSampling(SamplingParameters.newBuilder().setMaxTokens(UInt32Value.of(10)).setTemperature(DoubleValue.of(0)).addStopTokenIds(stop)).build());
        List<Integer> stoppedIds = stopped.messages().stream().flatMap(m -> m.getTokenIdsList().stream()).toList();
        assertEquals(ids.subList(0, ids.indexOf(stop)), stoppedIds);
        assertEquals(io.tandem.protocol.grpc.v1.FinishReason.FINISH_REASON_STOP, stopped.messages().getLast().getFinish().getReason());
    }

    @Test
    void theTokenServiceRefusesBadInputWithTheHttpApisMessage() {
        var unknown = grpc.call(GenerateGrpcClient.Generate, GenerateRequest.newBuilder().setModel("nope").addPromptTokenIds(1).build());
        assertEquals(GrpcStatus.NOT_FOUND, unknown.status());
        var outside = grpc.call(GenerateGrpcClient.Generate, GenerateRequest.newBuilder().setModel(model).addPromptTokenIds(1)
                .addPromptTokenIds(999_999).build());
        assertEquals(GrpcStatus.INVALID_ARGUMENT, outside.status());
        assertEquals(httpError(new JsonObject().put("prompt", new JsonArray().add(1).add(999_999))), outside.message());
        var empty = grpc.call(GenerateGrpcClient.Generate, GenerateRequest.newBuilder().setModel(model).build());
        assertEquals(GrpcStatus.INVALID_ARGUMENT, empty.status());
        assertEquals(httpError(new JsonObject().put("prompt", new JsonArray())), empty.message());
        var temperature = grpc.call(GenerateGrpcClient.Generate, GenerateRequest.newBuilder().setModel(model).addPromptTokenIds(1)
                .setSampling(SamplingParameters.newBuilder().setTemperature(DoubleValue.of(-1))).build());
        assertEquals(httpError(new JsonObject().put("prompt", new JsonArray().add(1)).put("temperature", -1.0)), temperature.message());
        var stop = grpc.call(GenerateGrpcClient.Generate, GenerateRequest.newBuilder().setModel(model).addPromptTokenIds(1)
                .setSampling(SamplingParameters.newBuilder().addStopTokenIds(999_999)).build());
        assertEquals(GrpcStatus.INVALID_ARGUMENT, stop.status());
        assertTrue(stop.message().startsWith("Token id 999999 at sampling.stop_token_ids[0] is outside the vocabulary"), stop.message());
    }

    @Test
    void reflectionListsBothServices() {
        ServiceMethod<ServerReflectionResponse, ServerReflectionRequest> info = ServiceMethod.client(
                ServiceName.create("grpc.reflection.v1.ServerReflection"), "ServerReflectionInfo", GrpcMessageEncoder.encoder(),
                GrpcMessageDecoder.decoder(ServerReflectionResponse.newBuilder()));
        var reply = grpc.call(info, ServerReflectionRequest.newBuilder().setListServices("").build());
        Set<String> services = reply.single().getListServicesResponse().getServiceList().stream()
                .map(ServiceResponse::getName).collect(Collectors.toSet());
        assertTrue(services.containsAll(Set.of("inference.GRPCInferenceService", "tandem.v1.Generate")), services.toString());

        var file = grpc.call(info, ServerReflectionRequest.newBuilder().setFileContainingSymbol("tandem.v1.Generate").build()).single();
        assertTrue(file.getFileDescriptorResponse().getFileDescriptorProtoCount() >= 1, "the service's .proto is described");
    }

    @Test
    void everyMethodHasItsMetrics() {
        grpc.call(GRPCInferenceServiceGrpcClient.ServerLive, ServerLiveRequest.getDefaultInstance());
        grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.request("nope", "hi").build());
        grpc.call(GRPCInferenceServiceGrpcClient.ModelStatistics, ModelStatisticsRequest.getDefaultInstance());
        String metrics = http.get("/metrics").body();
        assertTrue(metrics.contains("tandem_gateway_grpc_requests_total{code=\"OK\",method=\"inference.GRPCInferenceService/ServerLive\"}"), metrics);
        assertTrue(metrics.contains("tandem_gateway_grpc_requests_total{code=\"NOT_FOUND\",method=\"inference.GRPCInferenceService/ModelInfer\"}"));
        assertTrue(metrics.contains("tandem_gateway_grpc_requests_total{code=\"UNIMPLEMENTED\",method=\"other\"}"));
        assertTrue(metrics.contains("tandem_gateway_grpc_request_duration_seconds_bucket{method=\"inference.GRPCInferenceService/ServerLive\""));
    }

    private static boolean modelReady(String name, String version) {
        return grpc.call(GRPCInferenceServiceGrpcClient.ModelReady, ModelReadyRequest.newBuilder().setName(name).setVersion(version).build())
                .single().getReady();
    }

    private static void assertInvalid(ModelInferRequest.Builder request, String message) {
        var reply = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, request.build());
        assertEquals(GrpcStatus.INVALID_ARGUMENT, reply.status(), reply.toString());
        assertEquals(message, reply.message());
    }

    /** The gRPC request fails with the message /v1/completions gives for its prompt "hi" plus {@code fields}. */
    private static void assertSameAsHttp(ModelInferRequest.Builder request, JsonObject fields) {
        assertInvalid(request, httpError(new JsonObject().put("prompt", "hi").mergeIn(fields)));
    }

    private static String httpError(JsonObject completion) {
        JsonObject body = completion.copy().put("model", model);
        return http.post("/v1/completions", body).error(400).getString("message");
    }

    static String httpText(JsonObject completion) {
        return httpTextOf(http, model, completion);
    }

    /** {@code /v1/completions}' text for {@code completion} with the model set. */
    static String httpTextOf(Http http, String model, JsonObject completion) {
        JsonObject body = completion.copy().put("model", model);
        var r = http.post("/v1/completions", body);
        assertEquals(200, r.status(), r.body());
        return r.json().getJsonArray("choices").getJsonObject(0).getString("text");
    }

    private static double workerOutcomes(String outcome) {
        return gateway.meters().find("tandem.worker.requests").tag("outcome", outcome).counters().stream()
                .mapToDouble(Counter::count).sum();
    }
}
