package io.tandem.engine.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;

/**
 * Copy bandwidth of this machine with {@code threads} threads busy, each copying its own buffers far larger than
 * the caches (like STREAM's copy kernel). Reported as bytes moved per second, reads plus writes, which is the
 * rate at which weights can stream through the cores.
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {
    }

    /** Best of {@code rounds} rounds, in bytes per second. */
    public static double copyBytesPerSecond(int threads, long bytesPerThread, int rounds) throws InterruptedException {
        try (Arena arena = Arena.ofShared()) {
            List<MemorySegment[]> buffers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                MemorySegment src = arena.allocate(bytesPerThread, 64), dst = arena.allocate(bytesPerThread, 64);
                src.fill((byte) 1);
                dst.fill((byte) 2); // touch every page before timing
                buffers.add(new MemorySegment[] {src, dst});
            }
            double best = 0;
            for (int r = 0; r < rounds; r++) {
                CyclicBarrier start = new CyclicBarrier(threads + 1);
                List<Thread> workers = new ArrayList<>();
                for (MemorySegment[] b : buffers) {
                    workers.add(Thread.ofPlatform().start(() -> {
                        try {
                            start.await();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                        MemorySegment.copy(b[0], 0, b[1], 0, bytesPerThread);
                    }));
                }
                try {
                    start.await();
                } catch (java.util.concurrent.BrokenBarrierException e) {
                    throw new IllegalStateException(e);
                }
                long t0 = System.nanoTime();
                for (Thread w : workers) w.join();
                double seconds = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, 2.0 * bytesPerThread * threads / seconds);
            }
            return best;
        }
    }
}
