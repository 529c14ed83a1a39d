package io.tandem.engine.kernels;

import io.tandem.engine.Await;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

    @Test
    void niceAppliesToTheWorkersNotTheCaller() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/thread-self/stat")), "Linux /proc needed");
        int[] callerNice = {-1, -1};
        int[] workerNice = {-1, -1};
        try (ComputePool pool = new ComputePool(2, 7)) {
            // a thread of its own as the caller: the test runner's thread keeps its priority
            Thread caller = Thread.ofPlatform().start(() -> {
                callerNice[1] = niceOfThisThread();
                java.util.concurrent.CountDownLatch both = new java.util.concurrent.CountDownLatch(2);
                pool.run(2, (i, worker) -> {
                    workerNice[worker] = niceOfThisThread();
                    both.countDown();
                    try {
                        both.await(30, java.util.concurrent.TimeUnit.SECONDS); // so the other task goes to the other thread
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                callerNice[0] = niceOfThisThread();
            });
            caller.join(30_000);
        }
        assertEquals(callerNice[1], callerNice[0], "the calling thread keeps its priority");
        assertEquals(callerNice[1], workerNice[0], "the caller's tasks");
        assertEquals(7, workerNice[1], "a worker's tasks");
    }

    /** Field 19 of /proc/thread-self/stat (after the command name, which may hold spaces). */
    private static int niceOfThisThread() {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(after[19 - 3]);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
