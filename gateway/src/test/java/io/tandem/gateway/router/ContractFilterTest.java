package io.tandem.gateway.router;

import io.tandem.gateway.router.ContractFilter.Decision;
import io.tandem.gateway.router.ContractFilter.Refusal;
import io.tandem.protocol.ClusterContract;
import io.tandem.protocol.ProtocolVersion;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class ContractFilterTest {
    static final String FP = "c7830f5230609f69bc31c77c731032f0";
    static final String OTHER_FP = "0123456789abcdef0123456789abcdef";

    static ClusterContract contract(int blockSize) {
        return ClusterContract.of(FP, blockSize, "f32", "2x4x16");
    }

    static WorkerRecord worker(String id, ClusterContract contract, long registeredMillis) {
        return new WorkerRecord(id, WorkerRole.DECODE, "m", "node-1", "10.0.0.1", 8100, 2048, WorkerLoad.IDLE,
                registeredMillis + 500, id.hashCode(), contract, registeredMillis);
    }

    static List<String> ids(List<WorkerRecord> ws) {
        return ws.stream().map(WorkerRecord::workerId).toList();
    }

    static List<String> refusedIds(Decision d) {
        return d.refused().stream().map(r -> r.worker().workerId() + ":" + r.reason()).toList();
    }

    @Test
    void workersThatAgreeAreAllAccepted() {
        List<WorkerRecord> ws = List.of(worker("a", contract(32), 10), worker("b", contract(32), 20));
        Decision d = ContractFilter.decide(FP, ws);
        assertEquals(List.of("a", "b"), ids(d.accepted()));
        assertEquals(List.of(), d.refused());
        assertEquals(OptionalInt.of(32), d.blockSize(), "the router hashes with the workers' block size");
    }

    @Test
    void anotherModelFileUnderTheSameNameIsRefused() {
        WorkerRecord impostor = worker("impostor", ClusterContract.of(OTHER_FP, 16, "f32", "2x4x16"), 1);
        Decision d = ContractFilter.decide(FP, List.of(impostor, worker("a", contract(16), 10)));
        assertEquals(List.of("a"), ids(d.accepted()), "registered earlier, still refused: the gateway's file decides");
        Refusal r = d.refused().getFirst();
        assertEquals("fingerprint", r.reason());
        assertEquals("worker impostor (decode, node node-1) is refused for model 'm': fingerprint " + OTHER_FP + " instead of "
                + FP + " (the model file this gateway loaded); it gets no requests", r.describe());
    }

    @Test
    void anotherProtocolOrNoContractIsRefused() {
        WorkerRecord old = worker("old", new ClusterContract(FP, 16, "f32", "2x4x16", ProtocolVersion.CURRENT - 1), 1);
        WorkerRecord bare = worker("bare", null, 2);
        Decision d = ContractFilter.decide(FP, List.of(old, bare, worker("a", contract(16), 10)));
        assertEquals(List.of("a"), ids(d.accepted()));
        assertEquals(List.of("old:protocol", "bare:protocol"), refusedIds(d));
        assertEquals("protocol " + (ProtocolVersion.CURRENT - 1) + " instead of " + ProtocolVersion.CURRENT,
                d.refused().getFirst().mismatch().toString());
    }

    @Test
    void theWorkerRegisteredFirstSetsTheBlockSizeAndDtypeWhateverTheOrderSeen() {
        List<WorkerRecord> ws = new ArrayList<>(List.of(
                worker("late-32", contract(32), 300),
                worker("first-16", contract(16), 100),
                worker("second-16", contract(16), 200),
                worker("f16", ClusterContract.of(FP, 16, "f16", "2x4x16"), 250),
                worker("sim", ClusterContract.of(FP, 16, ClusterContract.NO_KV, ClusterContract.NO_KV), 260),
                worker("wide", ClusterContract.of(FP, 16, "f32", "2x8x16"), 270)));
        for (int shuffle = 0; shuffle < 4; shuffle++) {
            Collections.rotate(ws, 1);
            Decision d = ContractFilter.decide(FP, ws);
            assertEquals(List.of("first-16", "second-16"), ids(d.accepted()).stream().sorted().toList());
            assertEquals(List.of("f16:kv_dtype", "late-32:block_size", "sim:kv_dtype", "wide:kv_layout"),
                    refusedIds(d).stream().sorted().toList());
            assertEquals(contract(16), d.contract());
        }
        Refusal late = ContractFilter.decide(FP, ws).refused().stream()
                .filter(r -> r.worker().workerId().equals("late-32")).findFirst().orElseThrow();
        assertEquals("block_size 32 instead of 16 (the contract of worker first-16, registered first)",
                late.describe().substring(late.describe().indexOf("block_size"), late.describe().indexOf(";")));
    }

    @Test
    void equalRegistrationTimesAreOrderedByWorkerId() {
        Decision d = ContractFilter.decide(FP, List.of(worker("b", contract(32), 5), worker("a", contract(16), 5)));
        assertEquals(List.of("a"), ids(d.accepted()));
        assertEquals(OptionalInt.of(16), d.blockSize());
    }

    @Test
    void noAcceptedWorkerMeansNoBlockSize() {
        assertSame(Decision.NONE, ContractFilter.decide(FP, List.of()));
        Decision d = ContractFilter.decide(FP, List.of(worker("x", ClusterContract.of(OTHER_FP, 16, "f32", "2x4x16"), 1)));
        assertEquals(List.of(), d.accepted());
        assertNull(d.contract());
        assertEquals(OptionalInt.empty(), d.blockSize());
    }
}
