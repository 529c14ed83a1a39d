package io.tandem.worker.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.function.Supplier;

/**
 * A worker's own HTTP endpoints: {@code GET /health}, {@code GET /ready} (for load balancers and container
 * healthchecks), {@code GET /metrics} (Prometheus text) and the transfer bootstrap {@code GET /route}.
 * {@code /health} adds {@code "kernels"}: the CPU kernels its engine runs, as its {@link WorkerMetrics} report them
 * ({@code {"backend": "vector", "lanes": 16}}, or {@code "none"} for an engine without CPU kernels).
 */
public final class WorkerHttpServer {
    /** The readiness that answers {@code /ready} with 200. */
    public static final String READY = "ready";

    private WorkerHttpServer() {}

    /**
     * @param readiness the worker's state for {@code /ready}: {@link #READY} answers 200, anything else (starting,
     *                  draining, stopping) 503; the body is {@code {"status": <state>}}
     * @param route the transfer bootstrap endpoint ({@code GET /route})
     */
    public static Future<HttpServer> start(Vertx vertx, String host, int port, Supplier<JsonObject> health,
                                           Supplier<String> readiness, Handler<RoutingContext> route, MeterRegistry meters) {
        Router router = Router.router(vertx);
        router.get("/health").handler(ctx -> ctx.json(withKernels(health.get(), meters)));
        router.get("/ready").handler(ctx -> {
            String state = readiness.get();
            ctx.response().setStatusCode(READY.equals(state) ? 200 : 503).putHeader("content-type", "application/json")
                    .end(new JsonObject().put("status", state).encode());
        });
        router.get("/route").handler(route);
        router.get("/metrics").handler(PrometheusEndpoint.of(meters));
        return vertx.createHttpServer().requestHandler(router).listen(port, host);
    }

    private static JsonObject withKernels(JsonObject health, MeterRegistry meters) {
        if (health.containsKey("kernels") || !(health.getValue("workerId") instanceof String id)) return health;
        JsonObject kernels = WorkerMetrics.kernelsInfo(meters, id);
        return health.copy().put("kernels", kernels != null ? kernels : "none");
    }
}
