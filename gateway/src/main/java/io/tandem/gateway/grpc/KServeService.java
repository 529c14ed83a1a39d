package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.dispatch.ContractGate;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.preprocess.ServedModels;
import io.tandem.gateway.session.Generations;
import io.tandem.gateway.session.RequestIds;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcService;
import io.tandem.protocol.grpc.inference.ModelConfigRequest;
import io.tandem.protocol.grpc.inference.ModelConfigResponse;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelMetadataRequest;
import io.tandem.protocol.grpc.inference.ModelMetadataResponse;
import io.tandem.protocol.grpc.inference.ModelReadyRequest;
import io.tandem.protocol.grpc.inference.ModelReadyResponse;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;
import io.tandem.protocol.grpc.inference.ServerLiveRequest;
import io.tandem.protocol.grpc.inference.ServerLiveResponse;
import io.tandem.protocol.grpc.inference.ServerMetadataRequest;
import io.tandem.protocol.grpc.inference.ServerMetadataResponse;
import io.tandem.protocol.grpc.inference.ServerReadyRequest;
import io.tandem.protocol.grpc.inference.ServerReadyResponse;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;

import static io.tandem.gateway.grpc.GrpcCalls.Access.INFERENCE;
import static io.tandem.gateway.grpc.GrpcCalls.Access.KEYED;
import static io.tandem.gateway.grpc.GrpcCalls.Access.OPEN;

/**
 * {@code inference.GRPCInferenceService}, the KServe v2 / Open Inference Protocol as Triton serves it, for text
 * generation with the tensors of Triton's LLM backends ({@link InferRequests}): health, server and model metadata,
 * model config, {@code ModelInfer} (one response with the whole text) and {@code ModelStreamInfer} (text pieces as
 * they are detokenized, Triton's decoupled convention). The other methods of the service are not bound: the server
 * answers them UNIMPLEMENTED. Requests go through the same parser, preprocessor, dispatcher and detokenizer as the HTTP
 * API's.
 */
final class KServeService implements Service {

    private final Vertx vertx;
    private final ServedModels models;
    private final Generations generations;
    private final GrpcCalls calls;
    private final GrpcSettings settings;

    KServeService(Vertx vertx, ServedModels models, Generations generations, GrpcCalls calls, GrpcSettings settings) {
        this.vertx = vertx;
        this.models = models;
        this.generations = generations;
        this.calls = calls;
        this.settings = settings;
    }

    @Override
    public ServiceName name() {
        return GRPCInferenceServiceGrpcService.SERVICE_NAME;
    }

    @Override
    public com.google.protobuf.Descriptors.ServiceDescriptor descriptor() {
        return GRPCInferenceServiceGrpcService.SERVICE_DESCRIPTOR;
    }

    @Override
    public void bind(GrpcServer server) {
        server.callHandler(GRPCInferenceServiceGrpcService.ServerLive, calls.<ServerLiveRequest, ServerLiveResponse>handler(OPEN,
                call -> call.onMessage(r -> call.reply(ServerLiveResponse.newBuilder().setLive(true).build()))));
        server.callHandler(GRPCInferenceServiceGrpcService.ServerReady, calls.<ServerReadyRequest, ServerReadyResponse>handler(OPEN,
                call -> call.onMessage(r -> call.reply(ServerReadyResponse.newBuilder().setReady(ready()).build()))));
        server.callHandler(GRPCInferenceServiceGrpcService.ModelReady, calls.<ModelReadyRequest, ModelReadyResponse>handler(OPEN,
                call -> call.onMessage(r -> call.reply(ModelReadyResponse.newBuilder().setReady(ready(r)).build()))));
        server.callHandler(GRPCInferenceServiceGrpcService.ServerMetadata, calls.<ServerMetadataRequest, ServerMetadataResponse>handler(OPEN,
                call -> call.onMessage(r -> call.reply(serverMetadata()))));
        server.callHandler(GRPCInferenceServiceGrpcService.ModelMetadata, calls.<ModelMetadataRequest, ModelMetadataResponse>handler(KEYED,
                call -> call.onMessage(r -> call.reply(ModelDescriptions.metadata(model(r.getName(), r.getVersion()))))));
        server.callHandler(GRPCInferenceServiceGrpcService.ModelConfig, calls.<ModelConfigRequest, ModelConfigResponse>handler(KEYED,
                call -> call.onMessage(r -> call.reply(ModelConfigResponse.newBuilder()
                        .setConfig(ModelDescriptions.config(model(r.getName(), r.getVersion()))).build()))));
        server.callHandler(GRPCInferenceServiceGrpcService.ModelInfer, calls.handler(INFERENCE, this::modelInfer));
        server.callHandler(GRPCInferenceServiceGrpcService.ModelStreamInfer, calls.handler(INFERENCE, this::modelStreamInfer));
    }

    /** Ready as {@code /ready} is: not draining, and a worker serves some model. */
    private boolean ready() {
        return !calls.draining() && models.all().stream().anyMatch(m -> contracts().generates(m.name()));
    }

    /** A model this gateway serves, at a version it has, with a worker serving it; false for an unknown one (as Triton). */
    private boolean ready(ModelReadyRequest r) {
        boolean known = models.get(r.getName()).isPresent() && versionServed(r.getVersion());
        return known && !calls.draining() && contracts().generates(r.getName());
    }

    private ContractGate contracts() {
        return generations.dispatcher().contracts();
    }

    private static ServerMetadataResponse serverMetadata() {
        String version = KServeService.class.getPackage().getImplementationVersion();
        return ServerMetadataResponse.newBuilder().setName("tandem")
                .setVersion(version == null ? "development" : version)
                .addExtensions("model_configuration").addExtensions("parameters")
                .build();
    }

    /** The served model called {@code name}; NOT_FOUND for a name or version this gateway does not serve. */
    private ServedModel model(String name, String version) {
        if (name.isEmpty()) throw ApiException.invalid("model_name", "'model_name' is required");
        ServedModel model = models.get(name).orElseThrow(() -> ApiException.modelNotFound(name));
        if (!versionServed(version)) {
            throw ApiException.notFound("The model '" + name + "' has no version '" + version + "'; Tandem serves version "
                    + ModelDescriptions.VERSION + " (or leave the version empty)");
        }
        return model;
    }

    private static boolean versionServed(String version) {
        return version.isEmpty() || version.equals(ModelDescriptions.VERSION);
    }

    private void modelInfer(GrpcCall<ModelInferRequest, ModelInferResponse> call) {
        call.onMessage(r -> {
            long received = System.nanoTime();
            ServedModel model = model(r.getModelName(), r.getModelVersion());
            InferRequests.InferRequest request = InferRequests.parse(r, generations.dispatcher().slo().defaults());
            if (request.stream()) {
                throw ApiException.invalid(InferRequests.STREAM, "ModelInfer answers once: send stream=true on "
                        + "ModelStreamInfer, or stream=false here");
            }
            InferSession session = new InferSession(vertx, request.completion(), model, calls.metrics(),
                    settings.maxRequestMillis(), false, new InferSession.Sink() {
                @Override
                public void piece(String text) {
                    throw new IllegalStateException("ModelInfer does not stream");
                }

                @Override
                public void end(String text, FinishReason finish, Usage usage) {
                    call.reply(InferResponses.last(model.name(), request.id(), text, finish, usage, false));
                }

                @Override
                public void error(ApiException error) {
                    call.fail(error);
                }

                @Override
                public boolean full() {
                    return false;
                }

                @Override
                public void whenDrained(Runnable action) {
                    action.run();
                }
            });
            call.onClientGone(session::clientGone);
            session.slo(request.slo());
            generations.start(request.completion(), model, newId(), received, session);
        });
    }

    private void modelStreamInfer(GrpcCall<ModelInferRequest, ModelStreamInferResponse> call) {
        if (settings.writeQueueBytes() > 0) call.response().setWriteQueueMaxSize(settings.writeQueueBytes());
        InferStream stream = new InferStream(call);
        call.request().handler(r -> {
            if (!call.isOpen()) return;
            long received = System.nanoTime();
            try {
                if (calls.draining()) throw GrpcCalls.refusal();
                ServedModel model = model(r.getModelName(), r.getModelVersion());
                InferRequests.InferRequest request = InferRequests.parse(r, generations.dispatcher().slo().defaults());
                InferSession session = stream.add(model.name(), request.id(), sink -> new InferSession(vertx,
                        request.completion(), model, calls.metrics(), settings.maxRequestMillis(), request.stream(), sink));
                session.slo(request.slo());
            generations.start(request.completion(), model, newId(), received, session);
            } catch (RuntimeException e) {
                stream.requestFailed(r.getModelName(), r.getId(), Generations.asApi(e));
            }
        });
    }

    private static String newId() {
        return RequestIds.next("kserve-");
    }
}
