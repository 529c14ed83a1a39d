package io.tandem.engine.kernels;

import io.tandem.engine.kernels.MatMul.Projection;
import io.tandem.model.gguf.GgufTensorType;

import java.util.Random;

/** Prints matmul throughput per weight type and batch size (a tool, not a test). Args: [threads] [rows] [cols] [types] [batches] [layouts]. */
public final class MatMulSpeed {
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int rows = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        int cols = args.length > 2 ? Integer.parseInt(args[2]) : 768;
        String types = args.length > 3 ? args[3] : "Q8_0";
        int[] ns = java.util.Arrays.stream((args.length > 4 ? args[4] : "1,2,4,16,64,512").split(","))
                .mapToInt(Integer::parseInt).toArray();
        Random rnd = new Random(1);
        try (ComputePool pool = new ComputePool(threads)) {
            for (String tn : types.split(",")) {
                GgufTensorType type = GgufTensorType.valueOf(tn);
                WeightMatrix w = TestTensors.matrix(type, rows, cols, TestTensors.random(rnd, rows * cols, 0.1f));
                for (String kn : (args.length > 5 ? args[5] : "gguf,packed").split(",")) {
                    MatMul mm = new MatMul(Kernels.create(KernelMode.VECTOR), pool);
                    LinearWeight lw = kn.equals("packed") ? mm.pack(w) : w;
                    for (int n : ns) {
                        float[] x = TestTensors.random(rnd, n * cols, 1f);
                        float[] y = new float[n * rows];
                        long macs = (long) rows * cols * n;
                        int reps = (int) Math.max(3, 2e9 / macs);
                        for (int i = 0; i < reps; i++) mm.multiply(x, n, Projection.of(lw, y));
                        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
                        // with one thread, CPU time of this thread (other load on the machine does not count)
                        long t0 = threads == 1 ? mx.getCurrentThreadCpuTime() : System.nanoTime();
                        for (int i = 0; i < reps; i++) mm.multiply(x, n, Projection.of(lw, y));
                        double s = ((threads == 1 ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t0) / 1e9;
                        System.out.printf("%s %s %dx%d n=%3d: %6.2f GMAC/s, %7.1f us/call, %.1f GB/s weights%n", tn, kn,
                                rows, cols, n, macs * reps / s / 1e9, s / reps * 1e6, w.byteSize() * reps / s / 1e9);
                    }
                }
            }
        }
    }
}
