package io.tandem.gateway.dispatch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.protocol.ClusterContract;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The gate over a real (local) registry: what is routed to, what is counted, and when the gauge goes down again. */
class ContractGateTest {
    static final String FP = "c7830f5230609f69bc31c77c731032f0";
    final Vertx vertx = Vertx.vertx();
    final LocalWorkerRegistry registry = new LocalWorkerRegistry(vertx);
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    @AfterEach
    void close() {
        vertx.close().await();
    }

    static WorkerRecord worker(String id, String fingerprint, int blockSize) {
        return new WorkerRecord(id, WorkerRole.DECODE, "m", "", "127.0.0.1", 0, 2048, WorkerLoad.IDLE, 0, 1,
                ClusterContract.of(fingerprint, blockSize, "f32", "2x4x16"), 0);
    }

    double refused(String reason) {
        Counter c = meters.find("tandem.gateway.workers.refused").tag("model", "m").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    double refusedNow() {
        return meters.get("tandem.gateway.refused.workers").tag("model", "m").gauge().value();
    }

    /** Polls (not spins: on a loaded 2-core machine a spin starves the event loop it waits for). */
    static void eventually(String what, BooleanSupplier condition) {
        io.tandem.gateway.it.TestSupport.await(what, java.time.Duration.ofSeconds(20), condition);
    }

    @Test
    void refusalsAreCountedOnceAndForgottenWhenTheWorkerLeaves() {
        ContractGate gate = new ContractGate(registry, Map.of("m", FP), meters);
        registry.register(worker("a", FP, 32)).await();
        registry.register(worker("b-other-file", "0123456789abcdef0123456789abcdef", 32)).await();
        registry.register(worker("c-16", FP, 16)).await();
        eventually("both refusals reported", () -> refusedNow() == 2);
        assertEquals(List.of("a"), gate.accepted("m").stream().map(WorkerRecord::workerId).toList());
        assertEquals(32, gate.decide("m").blockSize().orElseThrow());
        assertEquals(1, refused("fingerprint"));
        assertEquals(1, refused("block_size"));
        assertSame(gate.decide("m"), gate.decide("m"), "one decision per registry snapshot");

        registry.deregister("c-16").await();
        eventually("the gauge down when a refused worker leaves", () -> refusedNow() == 1);
        assertEquals(1, gate.refusedWorkers());
        registry.deregister("b-other-file").await();
        eventually("no refused worker left", () -> refusedNow() == 0);
        assertEquals(1, refused("fingerprint"), "a counter counts refusals, it does not go down");
        gate.close();
    }

    @Test
    void aModelTheGatewayDidNotLoadHasNoAcceptedWorker() {
        ContractGate gate = new ContractGate(registry, Map.of("m", FP), meters);
        WorkerRecord other = worker("x", FP, 16);
        registry.register(new WorkerRecord(other.workerId(), other.role(), "not-loaded", other.nodeId(), other.host(), 0, 2048,
                other.load(), 0, 1, other.contract(), 0)).await();
        assertEquals(List.of(), gate.accepted("not-loaded"), "its file cannot be checked");
        assertEquals(0, gate.refusedWorkers());
        gate.close();
    }
}
