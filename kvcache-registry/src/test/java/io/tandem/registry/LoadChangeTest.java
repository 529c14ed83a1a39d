package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoadChangeTest {
    static WorkerLoad load(int running, int waiting, int active, int total) {
        return new WorkerLoad(running, waiting, active, total);
    }

    @Test
    void idleToBusyAndBackIsLarge() {
        assertTrue(LoadChange.isLarge(WorkerLoad.IDLE, load(1, 0, 0, 0)));
        assertTrue(LoadChange.isLarge(load(1, 0, 0, 0), WorkerLoad.IDLE));
    }

    @Test
    void queueMovesAreLargeFromAQuarterAndTwo() {
        assertFalse(LoadChange.isLarge(load(4, 0, 0, 0), load(5, 0, 0, 0)));
        assertTrue(LoadChange.isLarge(load(4, 0, 0, 0), load(4, 2, 0, 0)));
        assertFalse(LoadChange.isLarge(load(40, 0, 0, 0), load(40, 9, 0, 0)));
        assertTrue(LoadChange.isLarge(load(40, 0, 0, 0), load(40, 10, 0, 0)));
    }

    @Test
    void blockMovesAreLargeFromATenthOfThePool() {
        assertFalse(LoadChange.isLarge(load(2, 0, 100, 1000), load(2, 0, 199, 1000)));
        assertTrue(LoadChange.isLarge(load(2, 0, 100, 1000), load(2, 0, 200, 1000)));
        assertTrue(LoadChange.isLarge(load(2, 0, 300, 1000), load(2, 0, 200, 1000)));
    }

    @Test
    void startingToDrainIsLargeWhateverTheLoad() {
        assertTrue(LoadChange.isLarge(load(4, 0, 100, 1000), load(4, 0, 100, 1000).asDraining()));
        assertFalse(LoadChange.isLarge(load(4, 0, 100, 1000).asDraining(), load(5, 0, 100, 1000).asDraining()));
    }
}
