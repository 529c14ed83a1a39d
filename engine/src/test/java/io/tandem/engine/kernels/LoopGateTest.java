package io.tandem.engine.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compute pool's gate: a worker enters only the open loop it woke for; the caller waits only for those inside. */
class LoopGateTest {

    @Test
    void aWorkerWakingAfterTheCloseStaysOut() {
        LoopGate gate = new LoopGate();
        gate.open(1);
        gate.close(); // the caller claimed every task alone
        assertEquals(0, gate.inside(), "the caller has no one to wait for");
        assertFalse(gate.enter(1));
        assertEquals(0, gate.inside());
    }

    @Test
    void theCallerWaitsForTheWorkersInsideAndTheLastOneLeavingSaysSo() {
        LoopGate gate = new LoopGate();
        gate.open(7);
        assertTrue(gate.enter(7));
        assertTrue(gate.enter(7));
        gate.close();
        assertFalse(gate.enter(7), "no one enters once every task is claimed");
        assertEquals(2, gate.inside());
        assertFalse(gate.leave());
        assertTrue(gate.leave(), "the last worker out of a closed loop wakes the caller");
        assertEquals(0, gate.inside());
    }

    @Test
    void leavingBeforeTheCloseWakesNobody() {
        LoopGate gate = new LoopGate();
        gate.open(3);
        assertTrue(gate.enter(3));
        assertFalse(gate.leave(), "the caller is still claiming tasks, not waiting");
        gate.close();
        assertEquals(0, gate.inside());
    }

    @Test
    void aWorkerThatSleptThroughALoopCannotEnterTheNextWithTheOldEpoch() {
        LoopGate gate = new LoopGate();
        gate.open(4);
        gate.close();
        gate.open(5);
        assertFalse(gate.enter(4), "it read the loop's task before the caller moved on");
        assertTrue(gate.enter(5));
    }

    @Test
    void epochsPastThirtyTwoBitsStillMatch() {
        LoopGate gate = new LoopGate();
        long e = (1L << 32) + 9;
        gate.open(e);
        assertTrue(gate.enter(e));
        assertFalse(gate.enter(e - 1));
    }
}
