package io.tandem.gateway.grpc;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.it.TestSupport;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcClient;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelMetadataRequest;
import io.tandem.protocol.grpc.inference.ModelReadyRequest;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;
import io.tandem.protocol.grpc.inference.ServerLiveRequest;
import io.tandem.protocol.grpc.inference.ServerReadyRequest;
import io.tandem.protocol.grpc.v1.GenerateGrpcClient;
import io.tandem.protocol.grpc.v1.GenerateRequest;
import io.tandem.registry.LocalWorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The gRPC API at its edges, each on a gateway of its own: API keys in the {@code authorization} metadata, every
 * worker busy (RESOURCE_EXHAUSTED), no worker at all (UNAVAILABLE, not ready), and the graceful stop (new calls
 * UNAVAILABLE, calls in flight finish, or end with UNAVAILABLE at the drain timeout).
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GrpcLimitsTest {

    private Gateway gateway;
    private GrpcTestClient grpc;
    private Vertx ownVertx;

    @AfterEach
    void stop() {
        if (grpc != null) grpc.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
        if (ownVertx != null) TestSupport.sync(ownVertx.close());
    }

    private void start(GatewayOptions options) {
        gateway = TestSupport.start(options);
        grpc = new GrpcTestClient(gateway.grpcPort());
    }

    private String model() {
        return gateway.workers().getFirst().record().model();
    }

    private static ModelInferRequest longStream(String model, int tokens) {
        return KServe.stream(KServe.sampling(KServe.request(model, "Count."),
                new JsonObject().put("max_tokens", tokens).put("ignore_eos", true)), true).build();
    }

    @Test
    void apiKeysGoInTheAuthorizationMetadata() {
        start(TestSupport.options(0.5).addApiKey("s3cret"));
        ModelInferRequest hello = KServe.request(model(), "hello").putParameters("max_tokens", KServe.int64(3)).build();

        var missing = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, hello);
        assertEquals(GrpcStatus.UNAUTHENTICATED, missing.status());
        assertEquals("Missing API key: send the metadata 'authorization: Bearer <key>'", missing.message());
        var wrong = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, hello, "Bearer guess");
        assertEquals(GrpcStatus.UNAUTHENTICATED, wrong.status());
        assertEquals("Incorrect API key provided", wrong.message());
        assertFalse(KServe.text(grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, hello, "Bearer s3cret").single()).isEmpty());

        assertEquals(GrpcStatus.UNAUTHENTICATED, grpc.call(GRPCInferenceServiceGrpcClient.ModelStreamInfer, List.of(hello), null,
                m -> false).status());
        assertEquals(GrpcStatus.UNAUTHENTICATED, grpc.call(GRPCInferenceServiceGrpcClient.ModelMetadata,
                ModelMetadataRequest.newBuilder().setName(model()).build()).status());
        assertEquals(GrpcStatus.UNAUTHENTICATED, grpc.call(GenerateGrpcClient.Generate,
                GenerateRequest.newBuilder().setModel(model()).addPromptTokenIds(1).build()).status());
        // probes need no key
        assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ServerLive, ServerLiveRequest.getDefaultInstance()).single().getLive());
        assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance()).single().getReady());
    }

    @Test
    void everyWorkerBusyIsResourceExhaustedWithTheHttpApisMessage() throws Exception {
        GatewayOptions o = TestSupport.options(8).setMaxQueueWaitMillis(0);
        Map<String, Object> engine = new HashMap<>(o.engineOptions());
        engine.put("maxRunningSequences", 1);
        engine.put("maxWaitingRequests", 0);
        start(o.setEngineOptions(engine));
        CompletableFuture<ModelStreamInferResponse> first = new CompletableFuture<>();
        var busy = grpc.callAsync(GRPCInferenceServiceGrpcClient.ModelStreamInfer, List.of(longStream(model(), 240)), null, m -> {
            first.complete(m);
            return false;
        });
        assertEquals("", first.get(30, TimeUnit.SECONDS).getErrorMessage(), "the first request runs");

        var refused = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.request(model(), "me too").build());
        assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, refused.status(), refused.toString());
        try (TestSupport.Http http = new TestSupport.Http(gateway.port())) {
            String viaHttp = http.post("/v1/completions", new JsonObject().put("model", model()).put("prompt", "me too"))
                    .error(429).getString("message");
            assertEquals(viaHttp, refused.message());
        }
        // inside a stream the same error is an error_message, and the stream goes on
        var inStream = grpc.call(GRPCInferenceServiceGrpcClient.ModelStreamInfer, List.of(KServe.request(model(), "me too").build()),
                null, m -> false);
        assertEquals(GrpcStatus.OK, inStream.status());
        assertEquals(refused.message(), inStream.messages().getFirst().getErrorMessage());
        assertEquals(GrpcStatus.OK, TestSupport.sync(busy).status(), "the first request finished");
    }

    @Test
    void aGrpcPortInUseFailsTheStartAndNamesTheOption() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> TestSupport.start(TestSupport.options(1).setGrpcPort(taken.getLocalPort())));
            assertTrue(e.getMessage().contains("cannot serve gRPC on 127.0.0.1:" + taken.getLocalPort() + " (--grpc-port)"),
                    e.getMessage());
        }
    }

    @Test
    void noWorkerIsUnavailableAndNotReady() {
        ownVertx = Vertx.vertx();
        gateway = TestSupport.sync(Gateway.attach(ownVertx, new LocalWorkerRegistry(ownVertx),
                new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0)));
        grpc = new GrpcTestClient(gateway.grpcPort());
        String model = "tandem-fortune-5m";
        var r = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.request(model, "anyone there?").build());
        assertEquals(GrpcStatus.UNAVAILABLE, r.status());
        assertEquals("No worker is available for model '" + model + "'; retry later", r.message());
        assertFalse(grpc.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance()).single().getReady());
        assertFalse(grpc.call(GRPCInferenceServiceGrpcClient.ModelReady, ModelReadyRequest.newBuilder().setName(model).build())
                .single().getReady());
        assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ServerLive, ServerLiveRequest.getDefaultInstance()).single().getLive());
    }

    @Test
    void aDrainingGatewayRefusesNewCallsAndFinishesThoseInFlight() throws Exception {
        start(TestSupport.options(10));
        CompletableFuture<Void> streaming = new CompletableFuture<>();
        var inFlight = grpc.callAsync(GRPCInferenceServiceGrpcClient.ModelStreamInfer, List.of(longStream(model(), 100)), null, m -> {
            streaming.complete(null);
            return false;
        });
        streaming.get(30, TimeUnit.SECONDS);
        Future<Gateway.DrainReport> drained = gateway.drain(Duration.ofSeconds(60));

        var refused = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.request(model(), "late").build());
        assertEquals(GrpcStatus.UNAVAILABLE, refused.status());
        assertTrue(refused.message().startsWith("This gateway is shutting down"), refused.message());
        assertFalse(grpc.call(GRPCInferenceServiceGrpcClient.ServerReady, ServerReadyRequest.getDefaultInstance()).single().getReady());

        var finished = TestSupport.sync(inFlight);
        assertEquals(GrpcStatus.OK, finished.status(), finished.message());
        ModelInferResponse last = finished.messages().getLast().getInferResponse();
        assertTrue(KServe.isFinal(last));
        assertEquals("length", last.getParametersOrThrow("finish_reason").getStringParam());
        Gateway.DrainReport report = TestSupport.sync(drained);
        assertEquals(1, report.inFlight());
        assertEquals(1, report.finished());
    }

    @Test
    void atTheDrainTimeoutOpenCallsEndUnavailable() throws Exception {
        start(TestSupport.options(10));
        CompletableFuture<Void> streaming = new CompletableFuture<>();
        var inFlight = grpc.callAsync(GRPCInferenceServiceGrpcClient.ModelStreamInfer, List.of(longStream(model(), 240)), null, m -> {
            streaming.complete(null);
            return false;
        });
        streaming.get(30, TimeUnit.SECONDS);
        Gateway.DrainReport report = TestSupport.sync(gateway.drain(Duration.ofMillis(200)));
        assertEquals(1, report.cancelled());
        var ended = TestSupport.sync(inFlight);
        assertEquals(GrpcStatus.UNAVAILABLE, ended.status());
        assertEquals("The gateway shut down before this request finished; retry it", ended.message());
        TestSupport.await("the engine to hold nothing", Duration.ofSeconds(10),
                () -> gateway.workers().stream().mapToInt(w -> w.engine().activeRequests()).sum() == 0);
        TestSupport.await("no generation in flight", Duration.ofSeconds(5),
                () -> gateway.meters().get("tandem.gateway.in.flight.requests").gauge().value() == 0);
    }
}
