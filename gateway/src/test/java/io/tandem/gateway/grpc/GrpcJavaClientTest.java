package io.tandem.gateway.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.micrometer.core.instrument.Counter;
import io.tandem.engine.Engine;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;
import io.tandem.worker.DeployedWorker;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * grpc-java (Netty, shaded), another gRPC implementation than the gateway's Vert.x one, with no generated stubs:
 * method descriptors over the protobuf messages. ModelInfer and ModelStreamInfer give {@code /v1/completions}' text,
 * an error is a status with the HTTP API's message, and a cancelled stream cancels the request on the worker.
 */
class GrpcJavaClientTest {

    static final String SERVICE = "inference.GRPCInferenceService";
    static final MethodDescriptor<ModelInferRequest, ModelInferResponse> MODEL_INFER =
            MethodDescriptor.<ModelInferRequest, ModelInferResponse>newBuilder()
                    .setType(MethodDescriptor.MethodType.UNARY)
                    .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "ModelInfer"))
                    .setRequestMarshaller(ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance()))
                    .setResponseMarshaller(ProtoUtils.marshaller(ModelInferResponse.getDefaultInstance()))
                    .build();
    static final MethodDescriptor<ModelInferRequest, ModelStreamInferResponse> MODEL_STREAM_INFER =
            MethodDescriptor.<ModelInferRequest, ModelStreamInferResponse>newBuilder()
                    .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                    .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "ModelStreamInfer"))
                    .setRequestMarshaller(ProtoUtils.marshaller(ModelInferRequest.getDefaultInstance()))
                    .setResponseMarshaller(ProtoUtils.marshaller(ModelStreamInferResponse.getDefaultInstance()))
                    .build();

    static Gateway gateway;
    static Http http;
    static ManagedChannel channel;
    static String model;
    static Engine engine;

    @BeforeAll
    static void start() {
        gateway = TestSupport.start(TestSupport.options(4));
        http = new Http(gateway.port());
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", gateway.grpcPort()).usePlaintext().build();
        model = http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
        engine = gateway.workers().stream().filter(w -> w.record().role().servesGenerate())
                .map(DeployedWorker::engine).findFirst().orElseThrow();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        if (http != null) http.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @Test
    void unaryAndStreamedTextEqualTheHttpApis() throws Exception {
        JsonObject sampling = new JsonObject().put("temperature", 0).put("max_tokens", 16).put("ignore_eos", true);
        ModelInferRequest.Builder request = KServe.sampling(KServe.request(model, "Tell me a fortune."), sampling);
        String viaHttp = GrpcApiTest.httpTextOf(http, model, new JsonObject().put("prompt", "Tell me a fortune.").mergeIn(sampling));

        ModelInferResponse whole = ClientCalls.blockingUnaryCall(channel, MODEL_INFER, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
                request.build());
        assertEquals(viaHttp, KServe.text(whole));

        List<ModelStreamInferResponse> responses = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        var requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(MODEL_STREAM_INFER, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS)),
                new ClientResponseObserver<ModelInferRequest, ModelStreamInferResponse>() {
                    public void beforeStart(ClientCallStreamObserver<ModelInferRequest> call) {}
                    public void onNext(ModelStreamInferResponse r) { responses.add(r); }
                    public void onError(Throwable t) { done.completeExceptionally(t); }
                    public void onCompleted() { done.complete(null); }
                });
        requests.onNext(KServe.stream(request.clone(), true).build());
        requests.onCompleted();
        done.get(60, TimeUnit.SECONDS);
        assertTrue(responses.size() > 1);
        assertTrue(KServe.isFinal(responses.getLast().getInferResponse()));
        assertEquals(viaHttp, responses.stream().map(r -> KServe.text(r.getInferResponse())).collect(Collectors.joining()));
    }

    @Test
    void anErrorIsAStatusWithTheHttpApisMessage() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(channel, MODEL_INFER,
                CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
                KServe.request(model, "hi").putParameters("temperature", KServe.dbl(7)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertEquals("'temperature' must be in [0, 2], got 7.0", e.getStatus().getDescription());
    }

    @Test
    void cancellingTheStreamCancelsTheRequestOnTheWorker() throws Exception {
        double cancelledBefore = workerOutcomes("cancelled");
        CompletableFuture<ModelStreamInferResponse> first = new CompletableFuture<>();
        ClientCallStreamObserver<ModelInferRequest>[] call = new ClientCallStreamObserver[1];
        var requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(MODEL_STREAM_INFER, CallOptions.DEFAULT),
                new ClientResponseObserver<ModelInferRequest, ModelStreamInferResponse>() {
                    public void beforeStart(ClientCallStreamObserver<ModelInferRequest> c) { call[0] = c; }
                    public void onNext(ModelStreamInferResponse r) {
                        if (first.complete(r)) call[0].cancel("the client is done", null);
                    }
                    public void onError(Throwable t) { first.completeExceptionally(t); }
                    public void onCompleted() {}
                });
        requests.onNext(KServe.stream(KServe.sampling(KServe.request(model, "A long one"),
                new JsonObject().put("max_tokens", 240).put("ignore_eos", true)), true).build());
        assertEquals("", first.get(30, TimeUnit.SECONDS).getErrorMessage());
        TestSupport.await("the engine to drop the request", Duration.ofSeconds(10), () -> engine.activeRequests() == 0);
        TestSupport.await("the worker to count it cancelled", Duration.ofSeconds(5),
                () -> workerOutcomes("cancelled") == cancelledBefore + 1);
    }

    private static double workerOutcomes(String outcome) {
        return gateway.meters().find("tandem.worker.requests").tag("outcome", outcome).counters().stream()
                .mapToDouble(Counter::count).sum();
    }
}
