package io.tandem.engine.kernels;

import io.tandem.engine.Await;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ComputePoolTest {

    @Test
    void runsEveryIndexExactlyOnceOverManyLoops() {
        try (ComputePool pool = new ComputePool(3)) {
            for (int round = 0; round < 2000; round++) {
                int n = 1 + round % 37;
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                AtomicIntegerArray workers = new AtomicIntegerArray(3);
                pool.run(n, (i, w) -> {
                    hits.incrementAndGet(i);
                    workers.incrementAndGet(w);
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "round " + round + " index " + i);
                assertEquals(n, workers.get(0) + workers.get(1) + workers.get(2));
            }
        }
    }

    @Test
    void aTaskFailureIsRethrownAndThePoolStaysUsable() {
        try (ComputePool pool = new ComputePool(2)) {
            IllegalStateException boom = new IllegalStateException("boom");
            var e = assertThrows(IllegalStateException.class, () -> pool.run(100, (i, w) -> {
                if (i == 42) throw boom;
            }));
            assertSame(boom, e);
            AtomicIntegerArray hits = new AtomicIntegerArray(10);
            pool.run(10, (i, w) -> hits.incrementAndGet(i));
            for (int i = 0; i < 10; i++) assertEquals(1, hits.get(i));
        }
    }

    @Test
    void workersWakeUpAfterParking() {
        try (ComputePool pool = new ComputePool(2)) {
            // past the spin phase: the worker thread is parked on the pool
            Await.until(Await.DEFAULT, () -> Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> LockSupport.getBlocker(t) == pool), () -> "the pool's worker never parked");
            AtomicIntegerArray workers = new AtomicIntegerArray(2);
            for (int round = 0; round < 20; round++) {
                pool.run(64, (i, w) -> {
                    workers.incrementAndGet(w);
                    Thread.onSpinWait();
                });
            }
            assertEquals(20 * 64, workers.get(0) + workers.get(1));
        }
    }

    @Test
    void closedPoolRejectsWork() {
        ComputePool pool = new ComputePool(2);
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run(4, (i, w) -> { }));
        assertTrue(pool.threads() == 2);
    }
}
