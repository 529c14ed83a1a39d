package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.RequestParser;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.preprocess.ServedModels;
import io.tandem.gateway.session.Generations;
import io.tandem.gateway.session.RequestIds;
import io.tandem.gateway.slo.SloParser;
import io.tandem.gateway.slo.SloTargets;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code POST /v1/chat/completions} and {@code POST /v1/completions}: validate, then preprocess and dispatch to a
 * worker ({@link Generations}), answer as a stream or a single JSON body.
 */
final class CompletionHandler implements Handler<RoutingContext> {

    private final Endpoint endpoint;
    private final Vertx vertx;
    private final ServedModels models;
    private final Generations generations;
    private final GatewayMetrics metrics;
    private final HttpSettings settings;

    CompletionHandler(Endpoint endpoint, Vertx vertx, ServedModels models, Generations generations, GatewayMetrics metrics,
                      HttpSettings settings) {
        this.endpoint = endpoint;
        this.vertx = vertx;
        this.models = models;
        this.generations = generations;
        this.metrics = metrics;
        this.settings = settings;
    }

    @Override
    public void handle(RoutingContext ctx) {
        long received = System.nanoTime();
        JsonObject body = RequestParser.object(ctx.body().buffer());
        CompletionRequest request = RequestParser.parse(endpoint, body);
        SloTargets slo = SloParser.parse(ctx.request()::getHeader, body, generations.dispatcher().slo().defaults());
        ServedModel model = models.get(request.model()).orElseThrow(() -> ApiException.modelNotFound(request.model()));
        String id = RequestIds.next(endpoint.idPrefix());
        CompletionSession session = request.stream()
                ? new SseSession(vertx, ctx.response(), request, model, id, metrics, settings)
                : new JsonSession(vertx, ctx.response(), request, model, id, metrics, settings);
        session.slo(slo);
        generations.start(request, model, id, received, session);
    }
}
