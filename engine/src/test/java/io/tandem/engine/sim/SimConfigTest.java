package io.tandem.engine.sim;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SimConfigTest {
    @Test
    void stepCostGrowsWithPrefillBatchAndContext() {
        SimConfig c = new SimConfig(10, 1000, 100, 1, 8, 8, 0);
        assertEquals(0, c.stepNanos(0, 0, 0));
        assertEquals(50, c.stepNanos(5, 0, 0), "a prefill-only step has no decode overhead");
        assertEquals(1000 + 100 + 20, c.stepNanos(0, 1, 20));
        assertEquals(1000 + 800 + 2000 + 30, c.stepNanos(3, 8, 2000));
    }

    @Test
    void fromMapOverridesDefaultsAndRejectsUnknownKeys() {
        SimConfig c = SimConfig.fromMap(Map.of("decodeStepNanos", 5, "eosProbability", "0.5"));
        assertEquals(5, c.decodeStepNanos());
        assertEquals(0.5, c.eosProbability());
        assertEquals(SimConfig.defaults().maxRunningSequences(), c.maxRunningSequences());
        var e = assertThrows(IllegalArgumentException.class, () -> SimConfig.fromMap(Map.of("decodeStep", 5)));
        assertTrue(e.getMessage().contains("decodeStepNanos"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SimConfig.fromMap(Map.of("eosProbability", "lots")));
        assertThrows(IllegalArgumentException.class, () -> SimConfig.defaults().withEosProbability(1.5));
    }
}
