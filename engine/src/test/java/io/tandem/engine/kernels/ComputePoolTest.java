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
import static io.tandem.platform.LinuxThreads.SCHED_IDLE;
import static io.tandem.platform.LinuxThreads.SCHED_OTHER;

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
        int[][] seen = schedulingSeen(new ComputePriority.Nice(7));
        assertEquals(seen[0][0], seen[1][0], "the calling thread keeps its nice value");
        assertEquals(seen[0][0], seen[2][0], "the caller's tasks");
        assertEquals(7, seen[3][0], "a worker's tasks");
    }

    @Test
    void idleAppliesToTheWorkersNotTheCaller() throws Exception {
        int[][] seen = schedulingSeen(ComputePriority.IDLE);
        assertEquals(seen[0][1], seen[1][1], "the calling thread keeps its policy");
        assertEquals(SCHED_OTHER, seen[2][1], "the caller's tasks");
        assertEquals(SCHED_IDLE, seen[3][1], "a worker's tasks run in SCHED_IDLE");
    }

    @Test
    void autoIsIdleUnlessTheEventLoopsRunRealTime() {
        var auto = (ComputePriority.Auto) ComputePriority.AUTO;
        assertEquals(ComputePriority.IDLE, auto.resolve(false));
        assertEquals(ComputePriority.UNCHANGED, auto.resolve(true));
    }

    @Test
    void autoAppliesWhatItResolvesTo() throws Exception {
        int[][] seen = schedulingSeen(ComputePriority.AUTO);
        int expected = io.tandem.platform.RealTimeEventLoops.present() ? SCHED_OTHER : SCHED_IDLE;
        assertEquals(SCHED_OTHER, seen[2][1], "the caller's tasks");
        assertEquals(expected, seen[3][1], "a worker's tasks");
    }

    /**
     * {nice, policy} of the calling thread before and after a parallel loop of a two-thread pool at {@code priority},
     * and in the loop's tasks on the caller and on the worker.
     */
    private static int[][] schedulingSeen(ComputePriority priority) throws InterruptedException {
        assumeTrue(Files.isReadable(Path.of("/proc/thread-self/stat")), "Linux /proc needed");
        int[][] seen = new int[4][];
        try (ComputePool pool = new ComputePool(2, priority)) {
            // a thread of its own as the caller: the test runner's thread keeps its priority
            Thread caller = Thread.ofPlatform().start(() -> {
                seen[0] = scheduling();
                java.util.concurrent.CountDownLatch both = new java.util.concurrent.CountDownLatch(2);
                pool.run(2, (i, worker) -> {
                    seen[2 + worker] = scheduling();
                    both.countDown();
                    try {
                        both.await(30, java.util.concurrent.TimeUnit.SECONDS); // so the other task goes to the other thread
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                seen[1] = scheduling();
            });
            caller.join(30_000);
        }
        return seen;
    }

    /** {nice, policy}: fields 19 and 41 of /proc/thread-self/stat (after the command name, which may hold spaces). */
    private static int[] scheduling() {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new int[] {Integer.parseInt(after[19 - 3]), Integer.parseInt(after[41 - 3])};
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
