package io.tandem.worker;

import io.tandem.transfer.Await;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.RegistryOptions;
import io.tandem.registry.cluster.ClusterNode;
import io.tandem.registry.cluster.ClusterOptions;
import io.tandem.registry.cluster.HazelcastConfigs;
import io.tandem.registry.cluster.TandemCluster;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A worker in one cluster member and the "gateway" in another: every message crosses the wire
 * through the protocol's codecs, credits included, and a stream address nobody consumes in the
 * whole cluster still cancels the request.
 */
class ClusteredWorkerTest {
    private static ClusterNode workerNode, gatewayNode;
    private static DeployedWorker worker;

    @BeforeAll
    static void startCluster() throws Exception {
        HazelcastConfigs.LoopbackCluster cluster = HazelcastConfigs.newLoopbackCluster();
        RegistryOptions lease = RegistryOptions.withLease(3_000);
        Future<ClusterNode> a = TandemCluster.start(ClusterOptions.loopbackTest(cluster, lease));
        Future<ClusterNode> b = TandemCluster.start(ClusterOptions.loopbackTest(cluster, lease));
        workerNode = a.await(60, TimeUnit.SECONDS);
        gatewayNode = b.await(60, TimeUnit.SECONDS);
        ProtocolCodecs.registerAll(gatewayNode.vertx().eventBus());
        worker = WorkerDeployment.deploy(workerNode.vertx(), workerNode.registry(), WorkerOptions.defaults(WorkerRole.DECODE).withoutHttp(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), TestEngines.sim(TestEngines.steady(0.5))).await(20, TimeUnit.SECONDS);
        eventually(() -> gatewayNode.registry().worker(worker.workerId()).isPresent(), "the gateway member sees the worker");
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (worker != null) worker.undeploy(workerNode.vertx()).await(20, TimeUnit.SECONDS);
        if (gatewayNode != null) gatewayNode.close().await(30, TimeUnit.SECONDS);
        if (workerNode != null) workerNode.close().await(30, TimeUnit.SECONDS);
    }

    private static void eventually(BooleanSupplier condition, String what) {
        Await.until(condition, what);
    }

    /** Each test its own prompt: the engine caches prefixes, and a prompt another test ran would be partly cached. */
    private static GenerateRequest request(String id, int firstToken, int maxTokens, int credits) {
        int[] prompt = IntStream.range(firstToken, firstToken + 37).toArray();
        return new GenerateRequest(id, TestEngines.MODEL, prompt,
                new SamplingParams(maxTokens, 1f, 1f, 0, 0f, 11L, 0f, 0f, null, false, -1), Addresses.stream(id), credits);
    }

    @Test
    void tokensAndCreditsCrossTheClusterWithoutLoss() throws Exception {
        // the probe checks every message against the credit granted so far
        StreamProbe probe = StreamProbe.open(gatewayNode.vertx(), worker.workerId(), "x1", false).credited(10);
        gatewayNode.vertx().eventBus().request(Addresses.generate(worker.workerId()), request("x1", 3, 50, 10)).await(10, TimeUnit.SECONDS);
        probe.awaitTokens(10);
        eventually(() -> ((SimulatedEngine) worker.engine()).isPaused("x1"), "paused on the worker member");
        assertEquals(10, probe.tokens().length);
        probe.grant(40);
        var fin = assertInstanceOf(StreamMessage.Finished.class, probe.awaitTerminal());
        assertEquals(FinishReason.LENGTH, fin.reason());
        assertEquals(new Usage(37, 50, 0), fin.usage());
        assertEquals(50, probe.tokens().length);
        probe.close();
    }

    @Test
    void aStreamNobodyConsumesAnywhereCancelsTheRequest() throws Exception {
        gatewayNode.vertx().eventBus().request(Addresses.generate(worker.workerId()), request("x2", 100, 100_000, 16)).await(10, TimeUnit.SECONDS);
        eventually(() -> worker.engine().activeRequests() == 0, "engine freed after NO_HANDLERS across the cluster");
    }
}
