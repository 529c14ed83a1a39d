package io.tandem.gateway.router;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class RouterWarmupTest {

    /** Every mode's decision path runs (KV lookups, predictions, the ledger) and spreads over the generate workers. */
    @Test
    void everyModeDecidesOnItsOwnRouter() {
        for (RouterMode mode : RouterMode.values()) {
            int[] chosen = RouterWarmup.run(mode, KvCostModel.DEFAULT, 300);
            assertEquals(300, Arrays.stream(chosen).sum(), mode + ": one decision per call");
            assertEquals(0, chosen[0], mode + ": the prefill worker never generates");
            assertTrue(Arrays.stream(chosen).filter(n -> n > 0).count() >= 2, mode + " used more than one worker: " + Arrays.toString(chosen));
        }
    }
}
