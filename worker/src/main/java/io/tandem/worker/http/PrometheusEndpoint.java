package io.tandem.worker.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /metrics} in the Prometheus text format, rendered on a worker thread. A scrape of Tandem's registry takes
 * 10-20 ms of CPU (its histograms' buckets, the JVM gauges reading cgroup files); on the event loop that relays every
 * token and admits every request it would stall them all for as long, every scrape interval.
 */
public final class PrometheusEndpoint implements Handler<RoutingContext> {
    /** The content type of the Prometheus text format {@link PrometheusMeterRegistry#scrape()} writes. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    private PrometheusEndpoint(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    /** Serves the Prometheus registry in {@code meters}; without one, {@code /metrics} answers 503 and says why. */
    public static Handler<RoutingContext> of(MeterRegistry meters) {
        PrometheusMeterRegistry prometheus = prometheusOf(meters);
        if (prometheus != null) return new PrometheusEndpoint(prometheus);
        return ctx -> ctx.response().setStatusCode(503).putHeader("content-type", "text/plain; charset=utf-8")
                .end("this process's meter registry is not a Prometheus registry\n");
    }

    @Override
    public void handle(RoutingContext ctx) {
        ctx.vertx().executeBlocking(registry::scrape, false).onComplete(ar -> {
            if (ctx.response().closed()) return; // the scraper gave up
            if (ar.succeeded()) {
                ctx.response().putHeader("content-type", CONTENT_TYPE).end(ar.result());
            } else {
                ctx.response().setStatusCode(500).putHeader("content-type", "text/plain; charset=utf-8")
                        .end("scraping the meters failed: " + ar.cause() + "\n");
            }
        });
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
