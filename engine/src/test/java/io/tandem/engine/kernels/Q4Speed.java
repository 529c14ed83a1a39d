package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * Q4_0 matmul, the float-decoding path against the panel kernels, on one thread, timed by the thread's CPU time
 * (minimum over rounds, the two alternating), so that a machine shared with other work still gives usable ratios.
 * A tool, not a test. Args: [rows] [cols] [batches].
 */
public final class Q4Speed {
    public static void main(String[] args) {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 2048;
        int cols = args.length > 1 ? Integer.parseInt(args[1]) : 768;
        String batches = args.length > 2 ? args[2] : "1,16,128";
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Random rnd = new Random(1);
        WeightMatrix w = TestTensors.matrix(GgufTensorType.Q4_0, rows, cols, TestTensors.random(rnd, rows * cols, 0.02f));
        try (ComputePool pool = new ComputePool(1)) {
            Kernels k = Kernels.create(KernelMode.VECTOR);
            MatMul old = new MatMul(k, pool);
            Q4Kernels q4k = Q4Kernels.create(k);
            Q4MatMul q4 = new Q4MatMul(q4k, pool);
            Q4Panels packed = q4.pack(w);
            for (int warm = 0; warm < 2; warm++) { // compile everything (vector code in C1 is very slow) before timing
                for (String bs : batches.split(",")) {
                    int n = Integer.parseInt(bs);
                    float[] x = TestTensors.random(rnd, n * cols, 1f), y = new float[n * rows];
                    Q8Activations qa = new Q8Activations();
                    qa.reserve(n, cols);
                    for (int i = 0; i < Math.max(3, 3e8 / ((long) rows * cols * n)); i++) {
                        old.multiply(x, n, MatMul.Projection.of(w, y));
                        q4.multiply(x, n, Q4MatMul.Projection.of(packed, y));
                        q4k.quantize(qa, x, 0, n);
                    }
                }
            }
            for (String bs : batches.split(",")) {
                int n = Integer.parseInt(bs);
                float[] x = TestTensors.random(rnd, n * cols, 1f), y = new float[n * rows];
                long macs = (long) rows * cols * n;
                int reps = (int) Math.max(3, 2e8 / macs);
                long bestOld = Long.MAX_VALUE, bestNew = Long.MAX_VALUE;
                for (int round = 0; round < 12; round++) {
                    long t0 = mx.getCurrentThreadCpuTime();
                    for (int i = 0; i < reps; i++) old.multiply(x, n, MatMul.Projection.of(w, y));
                    long t1 = mx.getCurrentThreadCpuTime();
                    for (int i = 0; i < reps; i++) q4.multiply(x, n, Q4MatMul.Projection.of(packed, y));
                    long t2 = mx.getCurrentThreadCpuTime();
                    if (round >= 2) {
                        bestOld = Math.min(bestOld, t1 - t0);
                        bestNew = Math.min(bestNew, t2 - t1);
                    }
                }
                Q8Activations qa = new Q8Activations();
                long tq = Long.MAX_VALUE;
                for (int round = 0; round < 10; round++) {
                    long t0 = mx.getCurrentThreadCpuTime();
                    qa.reserve(n, cols);
                    for (int i = 0; i < reps; i++) q4k.quantize(qa, x, 0, n);
                    tq = Math.min(tq, mx.getCurrentThreadCpuTime() - t0);
                }
                System.out.printf("  quantize alone: %.1f us/call%n", tq / 1e3 / reps);
                System.out.printf("%dx%d n=%3d: old %8.1f us/call %5.1f GMAC/s | panels %8.1f us/call %5.1f GMAC/s | x%.2f%n",
                        rows, cols, n, bestOld / 1e3 / reps, macs * reps / (double) bestOld, bestNew / 1e3 / reps,
                        macs * reps / (double) bestNew, bestOld / (double) bestNew);
            }
        }
    }
}
