package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.preprocess.ServedModels;
import io.tandem.gateway.session.Generations;
import io.tandem.gateway.session.RequestIds;
import io.tandem.protocol.grpc.v1.GenerateGrpcService;
import io.tandem.protocol.grpc.v1.GenerateRequest;
import io.tandem.protocol.grpc.v1.GenerateResponse;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.Service;

/**
 * {@code tandem.v1.Generate}: token ids in, token ids (and logprobs) out, streamed ({@code protocol/src/main/proto/
 * tandem/v1/generate.proto}). For clients and routers that tokenize themselves; the same validation, dispatch and
 * errors as {@code /v1/completions} with a token-id prompt. A client that cancels the call cancels the generation on
 * its worker.
 */
final class TokenService implements Service {

    private final Vertx vertx;
    private final ServedModels models;
    private final Generations generations;
    private final GrpcCalls calls;
    private final GrpcSettings settings;

    TokenService(Vertx vertx, ServedModels models, Generations generations, GrpcCalls calls, GrpcSettings settings) {
        this.vertx = vertx;
        this.models = models;
        this.generations = generations;
        this.calls = calls;
        this.settings = settings;
    }

    @Override
    public ServiceName name() {
        return GenerateGrpcService.SERVICE_NAME;
    }

    @Override
    public com.google.protobuf.Descriptors.ServiceDescriptor descriptor() {
        return GenerateGrpcService.SERVICE_DESCRIPTOR;
    }

    @Override
    public void bind(GrpcServer server) {
        server.callHandler(GenerateGrpcService.Generate, calls.handler(GrpcCalls.Access.INFERENCE, this::generate));
    }

    private void generate(GrpcCall<GenerateRequest, GenerateResponse> call) {
        if (settings.writeQueueBytes() > 0) call.response().setWriteQueueMaxSize(settings.writeQueueBytes());
        call.onMessage(r -> {
            long received = System.nanoTime();
            if (r.getModel().isEmpty()) throw ApiException.invalid("model", "'model' is required");
            ServedModel model = models.get(r.getModel()).orElseThrow(() -> ApiException.modelNotFound(r.getModel()));
            CompletionRequest request = TokenRequests.parse(r);
            TokenSession session = new TokenSession(vertx, call, calls.metrics(), settings.maxRequestMillis());
            call.onClientGone(session::clientGone);
            generations.start(request, model, RequestIds.next("gen-"), received, session,
                    prepared -> TokenRequests.withStopTokens(prepared, r, model.vocabSize()));
        });
    }
}
