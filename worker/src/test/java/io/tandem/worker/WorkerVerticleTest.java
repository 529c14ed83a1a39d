package io.tandem.worker;

import io.tandem.transfer.Await;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.engine.sim.SimConfig;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

@ExtendWith(VertxExtension.class)
class WorkerVerticleTest {
    private Vertx vertx;
    private LocalWorkerRegistry registry;
    private PrometheusMeterRegistry meters;

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        this.registry = new LocalWorkerRegistry(vertx);
        this.meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    @AfterEach
    void tearDown() throws Exception {
        registry.close().await(5, TimeUnit.SECONDS);
    }

    private DeployedWorker deploy(WorkerOptions options, SimConfig sim) throws Exception {
        return WorkerDeployment.deploy(vertx, registry, options.withoutHttp(), meters, TestEngines.sim(sim)).await(10, TimeUnit.SECONDS);
    }

    private DeployedWorker deploy(SimConfig sim) throws Exception {
        return deploy(WorkerOptions.defaults(WorkerRole.BOTH), sim);
    }

    private static GenerateRequest request(String id, int promptLength, int maxTokens, int initialCredits) {
        int[] prompt = IntStream.range(0, promptLength).map(i -> 3 + i).toArray();
        SamplingParams s = new SamplingParams(maxTokens, 1f, 1f, 0, 0f, 7L, 0f, 0f, null, false, -1);
        return new GenerateRequest(id, TestEngines.MODEL, prompt, s, Addresses.stream(id), initialCredits);
    }

    private Future<Message<Object>> send(DeployedWorker w, GenerateRequest req) {
        return vertx.eventBus().request(Addresses.generate(w.workerId()), req);
    }

    private static void eventually(BooleanSupplier condition, String what) {
        Await.until(condition, what);
    }

    private static SimulatedEngine sim(DeployedWorker w) {
        return (SimulatedEngine) w.engine();
    }

    @Test
    void registersAndStreamsEveryTokenThenOneFinishedWithHonestUsage() throws Exception {
        DeployedWorker w = deploy(TestEngines.steady(0.2));
        WorkerRecord rec = registry.worker(w.workerId()).orElseThrow();
        assertEquals(TestEngines.MODEL, rec.model());
        assertEquals(WorkerRole.BOTH, rec.role());
        assertEquals(TestEngines.INFO.contextLength(), rec.maxContext());
        assertTrue(w.workerId().startsWith("both-"), w.workerId());

        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "r1", true);
        Message<Object> accept = send(w, request("r1", 12, 100, 4)).await(5, TimeUnit.SECONDS);
        assertNull(accept.body());
        var fin = assertInstanceOf(StreamMessage.Finished.class, probe.awaitTerminal());
        assertEquals(FinishReason.LENGTH, fin.reason());
        assertEquals(new Usage(12, 100, 0), fin.usage());
        int[] tokens = probe.tokens();
        assertEquals(100, tokens.length);
        assertTrue(IntStream.of(tokens).allMatch(t -> t >= 3 && t < 1000), "only sampleable ids");
        assertTrue(probe.messageCount() <= 100);
        eventually(() -> w.engine().activeRequests() == 0, "engine freed");
        eventually(() -> w.verticle().streamCount() == 0, "stream freed");
    }

    @Test
    void withoutCreditTheWorkerStopsPausesTheEngineAndLosesNothing() throws Exception {
        DeployedWorker w = deploy(TestEngines.steady(0.5));
        // the probe checks every message against the credit granted so far: never more tokens than credits
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "slow", false).credited(5);
        send(w, request("slow", 5, 60, 5)).await(5, TimeUnit.SECONDS);
        probe.awaitTokens(5);
        eventually(() -> sim(w).isPaused("slow"), "engine sequence paused");
        assertEquals(5, probe.tokens().length, "never more tokens than credits");
        assertEquals(1, w.engine().activeRequests(), "the request is held, not dropped");
        assertFalse(probe.terminal.isDone());

        probe.grant(10);
        probe.awaitTokens(15);
        eventually(() -> sim(w).isPaused("slow"), "paused again after the new credit is spent");
        assertEquals(15, probe.tokens().length);

        probe.grant(1000);
        var fin = assertInstanceOf(StreamMessage.Finished.class, probe.awaitTerminal());
        assertEquals(60, probe.tokens().length, "every token arrived");
        assertEquals(60, fin.usage().completionTokens());
        eventually(() -> w.engine().activeRequests() == 0, "engine freed");
    }

    @Test
    void zeroInitialCreditWaitsForTheFirstGrant() throws Exception {
        DeployedWorker w = deploy(TestEngines.steady(0.2));
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "zero", false).credited(0); // a token before the grant fails
        send(w, request("zero", 5, 10, 0)).await(5, TimeUnit.SECONDS);
        eventually(() -> sim(w).isPaused("zero"), "the engine paused the sequence that has no credit");
        assertEquals(0, probe.tokens().length);
        probe.grant(10);
        assertInstanceOf(StreamMessage.Finished.class, probe.awaitTerminal());
        assertEquals(10, probe.tokens().length);
    }

    @Test
    void cancelEndsTheStreamAndFreesTheRequest() throws Exception {
        DeployedWorker w = deploy(TestEngines.steady(1));
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "c", true);
        send(w, request("c", 5, 100_000, 4)).await(5, TimeUnit.SECONDS);
        probe.awaitTokens(3);
        probe.cancel("client went away");
        var fin = assertInstanceOf(StreamMessage.Finished.class, probe.awaitTerminal());
        assertEquals(FinishReason.CANCELLED, fin.reason());
        eventually(() -> w.engine().activeRequests() == 0, "engine freed");
        eventually(() -> w.verticle().streamCount() == 0, "stream freed");
        assertEquals(1.0, meters.get("tandem.worker.requests").tag("outcome", "cancelled").counter().count());
    }

    @Test
    void aStreamAddressWithNoConsumerCancelsTheRequest() throws Exception {
        DeployedWorker w = deploy(TestEngines.steady(1));
        // nobody consumes tandem.stream.orphan: the first token send fails with NO_HANDLERS
        send(w, request("orphan", 5, 100_000, 16)).await(5, TimeUnit.SECONDS);
        eventually(() -> w.engine().activeRequests() == 0, "engine freed after NO_HANDLERS");
        eventually(() -> w.verticle().streamCount() == 0, "stream freed");
    }

    @Test
    void aConsumerThatGoesAwayMidStreamCancelsTheRequest() throws Exception {
        DeployedWorker w = deploy(TestEngines.steady(1));
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "gone", true);
        send(w, request("gone", 5, 100_000, 4)).await(5, TimeUnit.SECONDS);
        probe.awaitTokens(4);
        probe.close();
        eventually(() -> w.engine().activeRequests() == 0, "engine freed");
    }

    @Test
    void aStreamWithoutCreditForTheStallTimeoutIsCancelled() throws Exception {
        DeployedWorker w = deploy(WorkerOptions.defaults(WorkerRole.DECODE).withStallTimeoutMillis(300), TestEngines.steady(0.5));
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "stall", false);
        long t0 = System.nanoTime();
        send(w, request("stall", 5, 1000, 2)).await(5, TimeUnit.SECONDS);
        var fin = assertInstanceOf(StreamMessage.Finished.class, probe.awaitTerminal());
        long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(FinishReason.CANCELLED, fin.reason());
        assertTrue(elapsedMs >= 290, "cancelled after " + elapsedMs + " ms");
        assertEquals(2, probe.tokens().length);
        eventually(() -> w.engine().activeRequests() == 0, "engine freed");
    }

    @Test
    void refusalsCarryTheirErrorCodes() throws Exception {
        DeployedWorker w = deploy(new SimConfig(0, 1_000_000, 0, 0, 1, 1, 0));
        StreamProbe first = StreamProbe.open(vertx, w.workerId(), "first", true);
        send(w, request("first", 5, 100_000, 8)).await(5, TimeUnit.SECONDS);
        first.awaitTokens(1); // admitted: the batch (of one) is full
        StreamProbe second = StreamProbe.open(vertx, w.workerId(), "second", true);
        send(w, request("second", 5, 5, 8)).await(5, TimeUnit.SECONDS); // waits
        assertEquals(ErrorCode.OVERLOADED.code(), failureCode(send(w, request("third", 5, 5, 8))));

        assertEquals(ErrorCode.INVALID_REQUEST.code(), failureCode(send(w, request("long", TestEngines.INFO.contextLength(), 5, 8))));
        assertEquals(ErrorCode.INVALID_REQUEST.code(), failureCode(send(w, request("first", 5, 5, 8))), "duplicate id");
        assertEquals(ErrorCode.INVALID_REQUEST.code(), failureCode(send(w, request("neg", 5, 5, -1))));
        GenerateRequest otherModel = new GenerateRequest("m", "other-model", new int[] {3}, SamplingParams.greedy(1), Addresses.stream("m"), 1);
        assertEquals(ErrorCode.MODEL_NOT_FOUND.code(), failureCode(send(w, otherModel)));
        assertEquals(ErrorCode.INVALID_REQUEST.code(),
                failureCode(vertx.eventBus().request(Addresses.generate(w.workerId()), "not a request")));

        first.cancel("done");
        first.awaitTerminal();
        assertInstanceOf(StreamMessage.Finished.class, second.awaitTerminal());
        eventually(() -> w.engine().activeRequests() == 0, "engine freed");
        assertEquals(6.0, meters.get("tandem.worker.requests").tag("outcome", "rejected").counter().count());
    }

    @Test
    void prefillWorkersRegisterButRefuseGenerate() throws Exception {
        DeployedWorker w = deploy(WorkerOptions.defaults(WorkerRole.PREFILL), TestEngines.steady(1));
        assertTrue(w.workerId().startsWith("prefill-"));
        assertEquals(WorkerRole.PREFILL, registry.worker(w.workerId()).orElseThrow().role());
        assertEquals(ErrorCode.UNAVAILABLE.code(), failureCode(send(w, request("p", 5, 5, 5))));
    }

    @Test
    void undeployFailsInFlightStreamsDeregistersAndClosesTheEngine() throws Exception {
        DeployedWorker w = deploy(TestEngines.steady(1));
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "inflight", true);
        send(w, request("inflight", 5, 100_000, 4)).await(5, TimeUnit.SECONDS);
        probe.awaitTokens(2);
        w.undeploy(vertx).await(10, TimeUnit.SECONDS);
        var failed = assertInstanceOf(StreamMessage.Failed.class, probe.awaitTerminal());
        assertEquals(ErrorCode.UNAVAILABLE, failed.code());
        assertTrue(registry.worker(w.workerId()).isEmpty(), "deregistered");
        assertEquals(0, w.engine().activeRequests());
        assertTrue(meters.find("tandem.worker.running.requests").gauges().isEmpty(), "its meters are removed");
        var e = assertThrows(Exception.class, () -> send(w, request("late", 5, 5, 5)).await(5, TimeUnit.SECONDS));
        assertEquals(io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS, ((ReplyException) e).failureType());
    }

    @Test
    void reportsLoadToTheRegistry() throws Exception {
        DeployedWorker w = deploy(WorkerOptions.defaults(WorkerRole.DECODE).withLoadReportMillis(50), TestEngines.steady(1));
        StreamProbe probe = StreamProbe.open(vertx, w.workerId(), "load", false);
        send(w, request("load", 40, 100_000, 1)).await(5, TimeUnit.SECONDS);
        probe.awaitTokens(1);
        eventually(() -> registry.worker(w.workerId()).map(r -> r.load().runningRequests() == 1 && r.load().activeBlocks() >= 3)
                .orElse(false), "load with one running request of 3 blocks");
        probe.cancel("enough");
        probe.awaitTerminal();
        eventually(() -> registry.worker(w.workerId()).map(r -> r.load().runningRequests() == 0).orElse(false), "idle load");
    }

    private static int failureCode(Future<?> f) {
        Exception e = assertThrows(Exception.class, () -> f.await(5, TimeUnit.SECONDS));
        return assertInstanceOf(ReplyException.class, e).failureCode();
    }
}
