package io.tandem.worker;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/** {@link WorkerVerticle#drain}: what a worker does between SIGTERM and undeploying. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class WorkerDrainTest {
    private Vertx vertx;
    private LocalWorkerRegistry registry;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        this.registry = new LocalWorkerRegistry(vertx);
    }

    @AfterEach
    void tearDown() throws Exception {
        registry.close().await(5, TimeUnit.SECONDS);
    }

    private DeployedWorker deploy(double stepMillis) throws Exception {
        WorkerOptions options = WorkerOptions.defaults(WorkerRole.BOTH).withHttp("127.0.0.1", 0);
        return WorkerDeployment.deploy(vertx, registry, options, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                TestEngines.sim(TestEngines.steady(stepMillis))).await(10, TimeUnit.SECONDS);
    }

    private static GenerateRequest request(String id, int maxTokens, int initialCredits) {
        int[] prompt = IntStream.range(0, 8).map(i -> 3 + i).toArray();
        SamplingParams s = new SamplingParams(maxTokens, 1f, 1f, 0, 0f, 7L, 0f, 0f, null, true, -1);
        return new GenerateRequest(id, TestEngines.MODEL, prompt, s, Addresses.stream(id), initialCredits);
    }

    private void accept(DeployedWorker w, GenerateRequest req) throws Exception {
        vertx.eventBus().request(Addresses.generate(w.workerId()), req).await(5, TimeUnit.SECONDS);
    }

    private HttpResponse<String> ready(DeployedWorker w) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + w.httpPort() + "/ready"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void eventually(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) fail("timed out waiting for: " + what);
            Thread.sleep(5);
        }
    }

    @Test
    void aDrainingWorkerRefusesNewWorkIsSkippedAndNotReadyWhileItsStreamFinishes() throws Exception {
        DeployedWorker w = deploy(1);
        assertEquals(200, ready(w).statusCode());
        StreamProbe running = StreamProbe.open(vertx, w.workerId(), "running", true);
        accept(w, request("running", 300, 4));
        running.awaitTokens(1);

        var drained = w.drain(Duration.ofSeconds(60));

        eventually(() -> registry.worker(w.workerId()).map(r -> r.load().draining()).orElse(false),
                "the registry shows the worker draining");
        HttpResponse<String> notReady = ready(w);
        assertEquals(503, notReady.statusCode(), notReady.body());
        assertEquals("draining", new JsonObject(notReady.body()).getString("status"));
        var refused = assertThrows(ReplyException.class, () -> accept(w, request("late", 10, 4)));
        assertEquals(ErrorCode.DRAINING.code(), refused.failureCode(), refused.getMessage());

        WorkerVerticle.DrainReport report = drained.await(60, TimeUnit.SECONDS);
        var finished = assertInstanceOf(StreamMessage.Finished.class, running.awaitTerminal());
        assertEquals(FinishReason.LENGTH, finished.reason());
        assertEquals(300, running.tokens().length, "the running stream finished in full");
        assertEquals(new WorkerVerticle.DrainReport(1, 1, 0, report.millis()), report);
        assertTrue(registry.worker(w.workerId()).isPresent(), "still registered (draining) until undeployed");

        w.undeploy(vertx).await(15, TimeUnit.SECONDS);
        assertTrue(registry.worker(w.workerId()).isEmpty(), "deregistered once undeployed");
    }

    @Test
    void atTheTimeoutTheRemainingStreamsAreHandedOverWithDrainingAndTheirKvIsFreed() throws Exception {
        DeployedWorker w = deploy(1);
        StreamProbe done = StreamProbe.open(vertx, w.workerId(), "done", true);
        StreamProbe stuck = StreamProbe.open(vertx, w.workerId(), "stuck", false); // grants nothing after its first 5
        accept(w, request("stuck", 1000, 5));
        stuck.awaitTokens(5);
        accept(w, request("done", 20, 4));
        assertInstanceOf(StreamMessage.Finished.class, done.awaitTerminal());
        assertEquals(1, w.engine().activeRequests());
        assertTrue(w.engine().load().activeBlocks() > 0, "the held request holds KV blocks");

        WorkerVerticle.DrainReport report = w.drain(Duration.ofMillis(300)).await(30, TimeUnit.SECONDS);

        assertEquals(1, report.running());
        assertEquals(1, report.handedOver());
        assertEquals(0, report.finished());
        var failed = assertInstanceOf(StreamMessage.Failed.class, stuck.awaitTerminal());
        assertEquals(ErrorCode.DRAINING, failed.code());
        assertEquals("worker draining: handed over", failed.message());
        assertEquals(5, stuck.tokens().length, "the tokens sent before the hand-over stand");
        eventually(() -> w.engine().activeRequests() == 0 && w.engine().load().activeBlocks() == 0,
                "the engine freed the handed-over request's KV");
        assertEquals(0, w.verticle().streamCount());
        w.undeploy(vertx).await(15, TimeUnit.SECONDS);
    }

    @Test
    void aWorkerWithoutStreamsDrainsAtOnce() throws Exception {
        DeployedWorker w = deploy(1);
        long start = System.nanoTime();
        WorkerVerticle.DrainReport report = w.drain(Duration.ofSeconds(60)).await(10, TimeUnit.SECONDS);
        assertEquals(new WorkerVerticle.DrainReport(0, 0, 0, report.millis()), report);
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "no wait for the 60 s timeout");
        assertSame(report, w.drain(Duration.ofSeconds(60)).await(5, TimeUnit.SECONDS), "a second drain is the first");
        w.undeploy(vertx).await(15, TimeUnit.SECONDS);
    }
}
