package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.LogprobsShaper;
import io.tandem.gateway.api.ResponseShapes;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.session.GenerationSession;
import io.tandem.protocol.TokenLogprobs;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;

/**
 * One OpenAI generation request on HTTP: the response it answers on, the OpenAI shapes and logprobs, and errors as
 * OpenAI envelopes; a client that closes the connection cancels the generation. The streaming and buffered
 * subclasses write the text.
 */
abstract class CompletionSession extends GenerationSession {

    protected final HttpServerResponse response;
    protected final CompletionRequest request;
    protected final ResponseShapes.Meta meta;
    protected final LogprobsShaper logprobs;

    CompletionSession(Vertx vertx, HttpServerResponse response, CompletionRequest request, ServedModel model,
                      String id, GatewayMetrics metrics, long maxRequestMillis) {
        super(vertx, GenerationSession.outputText(request, model), metrics, maxRequestMillis);
        this.response = response;
        this.request = request;
        this.meta = new ResponseShapes.Meta(request.endpoint(), id, System.currentTimeMillis() / 1000, model.name(),
                request.stream() && request.includeUsage());
        this.logprobs = new LogprobsShaper(request.endpoint(), model::piece, request.tokensAsIds());
        response.closeHandler(v -> clientGone());
    }

    @Override
    protected void logprob(TokenLogprobs lp) {
        if (request.wantsLogprobs()) logprobs.add(lp);
    }

    @Override
    protected void sendError(ApiException error) {
        Errors.send(response, error);
    }
}
