package io.tandem.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuEngineConfigTest {

    @Test
    void engineOptionsOverrideTheDefaults() {
        CpuEngineConfig d = CpuEngineConfig.defaults();
        assertEquals(CpuEngineConfig.DEFAULT_COMPUTE_NICE, d.computeNice());
        assertEquals(CpuEngineConfig.DEFAULT_STEP_LATENCY_TARGET_MS, d.stepLatencyTargetMs());
        CpuEngineConfig c = CpuEngineConfig.fromMap(Map.of("compute-nice", "0", "step-latency-target-ms", 80,
                "kv-cache-memory", "64MiB"));
        assertEquals(0, c.computeNice());
        assertEquals(80, c.stepLatencyTargetMs());
        assertEquals(64L << 20, c.kvCacheBytes());
    }

    @Test
    void badValuesNameTheOption() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuEngineConfig.fromMap(Map.of("compute-nice", 20)));
        assertTrue(e.getMessage().contains("compute-nice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CpuEngineConfig.fromMap(Map.of("compute-niceness", 5)));
        assertTrue(e.getMessage().contains("unknown cpu engine option 'compute-niceness'"), e.getMessage());
    }
}
