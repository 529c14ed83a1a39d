package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.postprocess.OutputText;
import io.tandem.gateway.session.GenerationSession;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.grpc.v1.Finish;
import io.tandem.protocol.grpc.v1.GenerateRequest;
import io.tandem.protocol.grpc.v1.GenerateResponse;
import io.tandem.protocol.grpc.v1.TokenLogprob;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

/**
 * One {@code tandem.v1.Generate} call's generation: the worker's token ids (and their logprobs) as they arrive, one
 * {@link GenerateResponse} per message from the worker, then a last one with the finish reason and usage. No text: the
 * session's detokenizer is a no-op. Credits go back to the worker while the client keeps up.
 */
final class TokenSession extends GenerationSession {

    private final GrpcCall<GenerateRequest, GenerateResponse> call;
    private final List<TokenLogprob> logprobs = new ArrayList<>();

    TokenSession(Vertx vertx, GrpcCall<GenerateRequest, GenerateResponse> call, GatewayMetrics metrics, long maxRequestMillis) {
        super(vertx, new OutputText(token -> "", () -> "", List.of()), metrics, maxRequestMillis);
        this.call = call;
    }

    @Override
    protected void accepted() {
    }

    @Override
    protected void logprob(TokenLogprobs lp) {
        TokenLogprob.Builder b = TokenLogprob.newBuilder().setLogprob(lp.logprob());
        if (lp.topTokens() != null) {
            for (int i = 0; i < lp.topTokens().length; i++) {
                b.addTopTokenIds(lp.topTokens()[i]).addTopLogprobs(lp.topLogprobs()[i]);
            }
        }
        logprobs.add(b.build());
    }

    @Override
    protected void emit(String text, int[] tokens, int consumed) {
        GenerateResponse.Builder r = GenerateResponse.newBuilder();
        for (int t : tokens) r.addTokenIds(t);
        r.addAllLogprobs(logprobs);
        logprobs.clear();
        call.write(r.build());
        grantAfterWrite(tokens.length, call.response().writeQueueFull(), grant -> call.response().drainHandler(v -> grant.run()));
    }

    @Override
    protected void complete(String tail, FinishReason finishReason, Usage usage) {
        call.write(GenerateResponse.newBuilder().setFinish(Finish.newBuilder()
                .setReason(finishReason == FinishReason.LENGTH ? io.tandem.protocol.grpc.v1.FinishReason.FINISH_REASON_LENGTH
                        : io.tandem.protocol.grpc.v1.FinishReason.FINISH_REASON_STOP)
                .setUsage(io.tandem.protocol.grpc.v1.Usage.newBuilder().setPromptTokens(usage.promptTokens())
                        .setCompletionTokens(usage.completionTokens()).setCachedTokens(usage.cachedTokens())))
                .build());
        call.finish();
    }

    @Override
    protected void sendError(ApiException error) {
        call.fail(error);
    }
}
