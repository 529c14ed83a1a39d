package io.tandem.protocol;

import io.tandem.protocol.ClusterContract.Term;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterContractTest {
    static final String FP = "0123456789abcdef0123456789abcdef";
    final ClusterContract base = ClusterContract.of(FP, 16, "f32", ClusterContract.kvLayout(22, 4, 64));

    @Test
    void equalContractsExchangeKvAndShareRouting() {
        ClusterContract same = ClusterContract.of(FP, 16, "f32", "22x4x64");
        assertEquals(ProtocolVersion.CURRENT, same.protocolVersion());
        assertTrue(base.mismatch(same).isEmpty());
        assertTrue(base.canExchangeKv(same));
        assertTrue(base.canShareRouting(same));
    }

    @Test
    void theFirstDifferingTermIsTheReason() {
        assertEquals(Term.PROTOCOL, base.mismatch(new ClusterContract("other", 32, "f16", "1x1x1", ProtocolVersion.CURRENT - 1)).orElseThrow().term());
        assertEquals(Term.PROTOCOL, base.mismatch(null).orElseThrow().term(), "a record without a contract");
        assertEquals(Term.FINGERPRINT, base.mismatch(ClusterContract.of("other", 32, "f16", "1x1x1")).orElseThrow().term());
        var size = base.mismatch(ClusterContract.of(FP, 32, "f16", "22x4x64")).orElseThrow();
        assertEquals(Term.BLOCK_SIZE, size.term());
        assertEquals("block_size 32 instead of 16", size.toString());
        assertEquals(Term.KV_DTYPE, base.mismatch(ClusterContract.of(FP, 16, "f16", "22x4x64")).orElseThrow().term());
        assertEquals(Term.KV_LAYOUT, base.mismatch(ClusterContract.of(FP, 16, "f32", "22x8x64")).orElseThrow().term());
    }

    @Test
    void routingNeedsModelProtocolAndBlockSizeButKvNeedsEverything() {
        ClusterContract f16 = ClusterContract.of(FP, 16, "f16", "22x4x64");
        assertTrue(base.canShareRouting(f16), "same block hashes");
        assertFalse(base.canExchangeKv(f16), "other bytes per element");
        assertFalse(base.canShareRouting(ClusterContract.of(FP, 32, "f32", "22x4x64")));
        assertFalse(base.canShareRouting(ClusterContract.of("other", 16, "f32", "22x4x64")));
    }

    @Test
    void enginesWithoutKvExchangeNone() {
        ClusterContract sim = ClusterContract.of(FP, 16, ClusterContract.NO_KV, ClusterContract.NO_KV);
        assertFalse(sim.canExchangeKv(sim));
        assertTrue(sim.canShareRouting(sim));
        assertEquals(Term.KV_DTYPE, base.mismatch(sim).orElseThrow().term());
    }

    @Test
    void invalidContractsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ClusterContract.of("", 16, "f32", "x"));
        assertThrows(IllegalArgumentException.class, () -> ClusterContract.of(FP, 0, "f32", "x"));
        assertThrows(NullPointerException.class, () -> ClusterContract.of(FP, 16, null, "x"));
        assertEquals("f16", ClusterContract.kvDtype("F16"));
    }

    @Test
    void epochsAreRandomAndNeverZero() {
        long a = WorkerRecord.newEpoch(), b = WorkerRecord.newEpoch();
        assertTrue(a != 0 && b != 0 && a != b);
    }
}
