package io.tandem.worker.http;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class PrometheusEndpointTest {
    private Vertx vertx;
    private WebClient client;

    @BeforeEach
    void oneEventLoop() {
        // one event loop: the server's /health and /metrics share the thread a scrape must not hold
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
        client = WebClient.create(vertx);
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void aSlowScrapeLeavesTheEventLoopFree() throws Exception {
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CountDownLatch scraping = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Gauge.builder("slow.gauge", () -> {
            scraping.countDown();
            try {
                // bounded: on the event loop (the old handler) this would hold /health for 30 s and fail the test
                assertTrue(release.await(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 42.0;
        }).register(meters);
        int port = serve(meters).actualPort();

        Future<HttpResponse<Buffer>> scrape = client.get(port, "127.0.0.1", "/metrics").send();
        assertTrue(scraping.await(10, TimeUnit.SECONDS), "the scrape reached the gauge");
        HttpResponse<Buffer> health = client.get(port, "127.0.0.1", "/health").send().await(5, TimeUnit.SECONDS);
        assertEquals(200, health.statusCode(), "the event loop answers while the scrape is still running");
        assertFalse(scrape.isComplete(), "the scrape is still held by its gauge");

        release.countDown();
        HttpResponse<Buffer> metrics = scrape.await(10, TimeUnit.SECONDS);
        assertEquals(200, metrics.statusCode());
        assertEquals(PrometheusEndpoint.CONTENT_TYPE, metrics.getHeader("content-type"));
        assertTrue(metrics.bodyAsString().contains("slow_gauge 42.0"), metrics.bodyAsString());
    }

    @Test
    void aRegistryWithoutPrometheusAnswers503() throws Exception {
        int port = serve(new SimpleMeterRegistry()).actualPort();
        HttpResponse<Buffer> r = client.get(port, "127.0.0.1", "/metrics").send().await(5, TimeUnit.SECONDS);
        assertEquals(503, r.statusCode());
        assertTrue(r.bodyAsString().contains("not a Prometheus registry"), r.bodyAsString());
    }

    @Test
    void findsThePrometheusRegistryInsideAComposite() throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        var composite = new io.micrometer.core.instrument.composite.CompositeMeterRegistry();
        composite.add(new SimpleMeterRegistry());
        composite.add(prometheus);
        composite.counter("composite.counter").increment(3);
        int port = serve(composite).actualPort();
        HttpResponse<Buffer> r = client.get(port, "127.0.0.1", "/metrics").send().await(5, TimeUnit.SECONDS);
        assertEquals(200, r.statusCode());
        assertTrue(r.bodyAsString().contains("composite_counter_total 3.0"), r.bodyAsString());
    }

    private HttpServer serve(io.micrometer.core.instrument.MeterRegistry meters) throws Exception {
        Router router = Router.router(vertx);
        router.get("/health").handler(ctx -> ctx.response().end("ok"));
        router.get("/metrics").handler(PrometheusEndpoint.of(meters));
        return vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await(5, TimeUnit.SECONDS);
    }
}
