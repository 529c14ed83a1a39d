package io.tandem.worker.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;

import java.util.function.Supplier;

/** A worker's own HTTP endpoints: {@code GET /health} and {@code GET /metrics} (Prometheus text). */
public final class WorkerHttpServer {
    private WorkerHttpServer() {}

    public static Future<HttpServer> start(Vertx vertx, String host, int port, Supplier<JsonObject> health, MeterRegistry meters) {
        Router router = Router.router(vertx);
        router.get("/health").handler(ctx -> ctx.json(health.get()));
        PrometheusMeterRegistry prometheus = prometheusOf(meters);
        if (prometheus != null) {
            router.get("/metrics").handler(PrometheusScrapingHandler.create(prometheus));
        } else {
            router.get("/metrics").handler(ctx -> ctx.response().setStatusCode(503)
                    .end("this worker's meter registry is not a Prometheus registry\n"));
        }
        return vertx.createHttpServer().requestHandler(router).listen(port, host);
    }

    /** The Prometheus registry in {@code meters} (itself, or inside a composite), or null. */
    static PrometheusMeterRegistry prometheusOf(MeterRegistry meters) {
        if (meters instanceof PrometheusMeterRegistry p) return p;
        if (meters instanceof CompositeMeterRegistry c) {
            for (MeterRegistry r : c.getRegistries()) {
                PrometheusMeterRegistry p = prometheusOf(r);
                if (p != null) return p;
            }
        }
        return null;
    }
}
