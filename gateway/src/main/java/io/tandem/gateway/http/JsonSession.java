package io.tandem.gateway.http;

import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.ResponseShapes;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/** A non-streamed response: collect the text (bounded by max_tokens), answer once at the end. */
final class JsonSession extends CompletionSession {

    private final StringBuilder text = new StringBuilder();

    JsonSession(Vertx vertx, HttpServerResponse response, CompletionRequest request, ServedModel model, String id,
                GatewayMetrics metrics, HttpSettings settings) {
        super(vertx, response, request, model, id, metrics, settings.maxRequestMillis());
    }

    @Override
    protected void accepted() {}

    @Override
    protected void emit(String chunk, int[] tokens, int consumed) {
        text.append(chunk);
        stream.grant(tokens.length);
    }

    @Override
    protected void complete(String tail, FinishReason finishReason, Usage usage) {
        text.append(tail);
        response.putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(ResponseShapes.completion(meta, text.toString(), finishReason.openAiName(), usage, logprobs.drain()).toBuffer());
    }
}
