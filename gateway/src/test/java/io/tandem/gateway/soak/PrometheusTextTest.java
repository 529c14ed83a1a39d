package io.tandem.gateway.soak;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrometheusTextTest {
    private static final PrometheusText TEXT = new PrometheusText("""
            # HELP jvm_memory_used_bytes The amount of used memory
            # TYPE jvm_memory_used_bytes gauge
            jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.0E7
            jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2.5E7
            jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 5.0E7
            jvm_threads_live_threads 68.0
            tandem_migrations_total{reason="drained"} 3.0
            tandem_migrations_total{reason="worker_left"} 0.0
            tandem_worker_active_blocks{role="both",worker="w-1"} 12.0
            """);

    @Test
    void sumsTheSamplesWhoseLabelsMatch() {
        assertEquals(3.5e7, TEXT.sum("jvm_memory_used_bytes", Map.of("area", "heap")));
        assertEquals(8.5e7, TEXT.sum("jvm_memory_used_bytes"));
        assertEquals(68, TEXT.sum("jvm_threads_live_threads"));
        assertEquals(12, TEXT.sum("tandem_worker_active_blocks"));
        assertTrue(Double.isNaN(TEXT.sum("tandem_worker_free_blocks")), "a missing metric is NaN, not 0");
        assertTrue(Double.isNaN(TEXT.sum("jvm_memory_used_bytes", Map.of("area", "offheap"))));
    }

    @Test
    void readsACounterByLabel() {
        assertEquals(Map.of("drained", 3.0, "worker_left", 0.0), TEXT.byLabel("tandem_migrations_total", "reason"));
    }
}
