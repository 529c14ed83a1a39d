package io.tandem.engine.cpu;

import io.tandem.engine.kernels.ComputePriority;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuEngineConfigTest {

    @Test
    void engineOptionsOverrideTheDefaults() {
        CpuEngineConfig d = CpuEngineConfig.defaults();
        assertEquals(ComputePriority.AUTO, d.computePriority());
        assertEquals(CpuEngineConfig.DEFAULT_STEP_LATENCY_TARGET_MS, d.stepLatencyTargetMs());
        CpuEngineConfig c = CpuEngineConfig.fromMap(Map.of("compute-nice", "0", "step-latency-target-ms", 80,
                "kv-cache-memory", "64MiB"));
        assertEquals(ComputePriority.UNCHANGED, c.computePriority());
        assertEquals(new ComputePriority.Nice(10), CpuEngineConfig.fromMap(Map.of("compute-nice", 10)).computePriority());
        assertEquals(ComputePriority.IDLE, CpuEngineConfig.fromMap(Map.of("compute-nice", "idle")).computePriority());
        assertEquals(ComputePriority.AUTO, CpuEngineConfig.fromMap(Map.of("compute-nice", "Auto")).computePriority());
        assertEquals(80, c.stepLatencyTargetMs());
        assertEquals(64L << 20, c.kvCacheBytes());
        CpuEngineConfig changed = c.withThreads(3).withKvCache(8L << 20, c.kvDataType()).withBatching(256, 4)
                .withStepLatencyTarget(50);
        assertEquals(ComputePriority.UNCHANGED, changed.computePriority(), "the with-methods keep the other settings");
        assertEquals(new CpuEngineConfig(3, c.kernels(), 8L << 20, c.kvDataType(), c.blockSize(), 256, 50, 4,
                c.maxWaitingRequests(), c.prefixCaching(), c.computePriority()), changed);
    }

    @Test
    void badValuesNameTheOption() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuEngineConfig.fromMap(Map.of("compute-nice", 20)));
        assertTrue(e.getMessage().contains("compute-nice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CpuEngineConfig.fromMap(Map.of("compute-nice", "lazy")));
        assertTrue(e.getMessage().contains("compute-nice: expected auto, idle or a nice value 0..19, got 'lazy'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CpuEngineConfig.fromMap(Map.of("compute-niceness", 5)));
        assertTrue(e.getMessage().contains("unknown cpu engine option 'compute-niceness'"), e.getMessage());
    }
}
