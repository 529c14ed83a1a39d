package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.RequestParser;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.PreparedRequest;
import io.tandem.gateway.preprocess.Preprocessor;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.preprocess.ServedModels;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import java.util.UUID;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions}: validate, preprocess (off
 * the event loop), dispatch to a worker, answer as a stream or a single JSON body.
 */
final class CompletionHandler implements Handler<RoutingContext> {

    private static final System.Logger log = System.getLogger(CompletionHandler.class.getName());

    private final Endpoint endpoint;
    private final Vertx vertx;
    private final ServedModels models;
    private final Dispatcher dispatcher;
    private final GatewayMetrics metrics;
    private final HttpSettings settings;

    CompletionHandler(Endpoint endpoint, Vertx vertx, ServedModels models, Dispatcher dispatcher, GatewayMetrics metrics,
                      HttpSettings settings) {
        this.endpoint = endpoint;
        this.vertx = vertx;
        this.models = models;
        this.dispatcher = dispatcher;
        this.metrics = metrics;
        this.settings = settings;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long received = System.nanoTime();
        CompletionRequest request = RequestParser.parse(endpoint, ctx.body().buffer());
        ServedModel model = models.get(request.model()).orElseThrow(() -> ApiException.modelNotFound(request.model()));
        String id = endpoint.idPrefix() + UUID.randomUUID().toString().replace("-", "");
        CompletionSession session = request.stream()
                ? new SseSession(vertx, ctx.response(), request, model, id, metrics, settings)
                : new JsonSession(vertx, ctx.response(), request, model, id, metrics, settings);

        if (Preprocessor.isCheap(request)) {
            // two thread hand-offs cost more than the work itself, and on busy cores each waits for a core
            PreparedRequest prepared;
            try {
                prepared = Preprocessor.prepare(request, model);
            } catch (RuntimeException err) {
                session.fail(asApi(err));
                return;
            }
            dispatch(session, id, model, prepared, received);
            return;
        }
        vertx.executeBlocking(() -> Preprocessor.prepare(request, model), false)
                .onSuccess(prepared -> dispatch(session, id, model, prepared, received))
                .onFailure(err -> session.fail(asApi(err)));
    }

    private void dispatch(CompletionSession session, String id, ServedModel model, PreparedRequest prepared, long received) {
        if (session.isFinished()) return; // the client left while we tokenized
        session.prepared(prepared.promptTokens().length);
        GenerationStream stream = dispatcher.start(id, model.name(), prepared.promptTokens(), prepared.sampling(),
                session.request.priority(), received, session);
        session.dispatched(stream);
        stream.acceptance().onFailure(err -> session.fail(asApi(err)));
    }

    private static ApiException asApi(Throwable err) {
        if (err instanceof ApiException api) return api;
        log.log(System.Logger.Level.ERROR, "unexpected failure while serving a completion", err);
        return ApiException.internal("Internal error: " + err.getClass().getSimpleName());
    }
}
