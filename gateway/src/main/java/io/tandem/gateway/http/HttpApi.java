package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.planner.PlannerJson;
import io.tandem.gateway.planner.PlanningService;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.preprocess.ServedModels;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;
import java.util.Set;

/**
 * The OpenAI-compatible HTTP API: routes, authentication, body limit, and errors as OpenAI
 * envelopes for everything (unknown paths and methods included, never an HTML page).
 */
public final class HttpApi {

    private static final System.Logger log = System.getLogger(HttpApi.class.getName());
    private static final Set<String> KNOWN_PATHS = Set.of("/health", "/ready", "/metrics", "/v1/models", "/v1/planner",
            Endpoint.CHAT.path(), Endpoint.COMPLETION.path());

    private final Vertx vertx;
    private final ServedModels models;
    private final Dispatcher dispatcher;
    private final GatewayMetrics metrics;
    private final HttpSettings settings;
    private final HttpDrain drain;
    private final PlanningService planner;
    private final long createdSeconds = System.currentTimeMillis() / 1000;

    public HttpApi(Vertx vertx, ServedModels models, Dispatcher dispatcher, GatewayMetrics metrics, HttpSettings settings,
                   HttpDrain drain, PlanningService planner) {
        this.vertx = vertx;
        this.models = models;
        this.dispatcher = dispatcher;
        this.metrics = metrics;
        this.settings = settings;
        this.drain = drain;
        this.planner = planner;
    }

    /** @param scrape the Prometheus scraping handler of the metrics registry */
    public Router router(Handler<RoutingContext> scrape) {
        Router router = Router.router(vertx);
        router.route().handler(this::countRequest);
        router.get("/health").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "ok")));
        router.get("/ready").handler(this::ready);
        router.get("/metrics").handler(scrape);

        if (!settings.apiKeys().isEmpty()) router.route("/v1/*").handler(new ApiKeyAuth(settings.apiKeys()));
        router.get("/v1/models").handler(this::listModels);
        router.get("/v1/models/:model").handler(this::getModel);
        router.get("/v1/planner").handler(ctx -> json(ctx, 200, PlannerJson.of(planner.refresh())));
        for (Endpoint e : Endpoint.values()) {
            router.post(e.path()).handler(drain.guard()); // its own route: a body handler must come first on a route
            router.post(e.path())
                    .handler(BodyHandler.create(false).setBodyLimit(settings.bodyLimitBytes()))
                    .handler(new CompletionHandler(e, vertx, models, new io.tandem.gateway.session.Generations(vertx, dispatcher), metrics, settings));
        }
        router.route().last().handler(ctx -> ctx.fail(ApiException.notFound(
                "Unknown request: " + ctx.request().method() + " " + ctx.request().path())));
        router.route().failureHandler(this::failure);
        return router;
    }

    private void countRequest(RoutingContext ctx) {
        long start = System.nanoTime();
        String path = ctx.request().path();
        String endpoint = KNOWN_PATHS.contains(path) ? path : path.startsWith("/v1/models/") ? "/v1/models/{model}" : "other";
        ctx.addEndHandler(ar -> {
            int status = ar.succeeded() ? ctx.response().getStatusCode() : 499; // 499: the client went away
            metrics.request(endpoint, status);
            metrics.requestDuration(endpoint, System.nanoTime() - start);
        });
        ctx.next();
    }

    private void failure(RoutingContext ctx) {
        Throwable err = ctx.failure();
        ApiException api;
        if (err instanceof ApiException e) {
            api = e;
        } else if (ctx.statusCode() == 413) {
            api = new ApiException(413, "invalid_request_error",
                    "The request body is larger than the limit of " + settings.bodyLimitBytes() + " bytes", null, "request_too_large", -1);
        } else if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
            api = new ApiException(ctx.statusCode(), "invalid_request_error",
                    err != null && err.getMessage() != null ? err.getMessage() : "Bad request", null, null, -1);
        } else {
            log.log(System.Logger.Level.ERROR, "unexpected failure on " + ctx.request().method() + " " + ctx.request().path(), err);
            api = ApiException.internal("Internal error" + (err != null ? ": " + err.getClass().getSimpleName() : ""));
        }
        Errors.send(ctx.response(), api);
    }

    /** Models that this gateway can preprocess and a live generate-capable worker serves (refused workers do not count). */
    private List<ServedModel> liveModels() {
        return models.all().stream()
                .filter(m -> dispatcher.contracts().generates(m.name()))
                .toList();
    }

    private void ready(RoutingContext ctx) {
        if (drain.draining()) {
            Errors.send(ctx.response(), drain.refusal());
            return;
        }
        List<ServedModel> live = liveModels();
        if (live.isEmpty()) {
            Errors.send(ctx.response(), ApiException.unavailable("No worker is serving any model yet", settings.retryAfterSeconds()));
            return;
        }
        JsonArray names = new JsonArray();
        live.forEach(m -> names.add(m.name()));
        json(ctx, 200, new JsonObject().put("status", "ready").put("models", names));
    }

    private void listModels(RoutingContext ctx) {
        JsonArray data = new JsonArray();
        for (ServedModel m : liveModels()) data.add(modelObject(m));
        json(ctx, 200, new JsonObject().put("object", "list").put("data", data));
    }

    private void getModel(RoutingContext ctx) {
        String name = ctx.pathParam("model");
        ServedModel model = liveModels().stream().filter(m -> m.name().equals(name)).findFirst()
                .orElseThrow(() -> ApiException.modelNotFound(name));
        json(ctx, 200, modelObject(model));
    }

    private JsonObject modelObject(ServedModel m) {
        return new JsonObject()
                .put("id", m.name())
                .put("object", "model")
                .put("created", createdSeconds)
                .put("owned_by", "tandem")
                .put("max_model_len", m.contextLength());
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
    }
}
