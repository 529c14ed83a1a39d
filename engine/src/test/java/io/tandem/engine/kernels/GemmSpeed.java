package io.tandem.engine.kernels;

import java.util.Random;

/** Single-thread throughput of the gemm microkernels on one decoded tile (a tool, not a test). Args: [cols] [items]. */
public final class GemmSpeed {
    public static void main(String[] args) {
        int cols = args.length > 0 ? Integer.parseInt(args[0]) : 768;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 48;
        int lanes = VectorKernels.lanes();
        Random rnd = new Random(1);
        float[] tile = TestTensors.random(rnd, 4 * lanes * cols, 1f);
        float[] x = TestTensors.random(rnd, n * cols, 1f);
        float[] out = new float[64 * lanes];
        for (int round = 0; round < 5; round++) {
            for (String k : new String[] {"2x8", "4x6"}) {
                long macs = 0;
                var mx = java.lang.management.ManagementFactory.getThreadMXBean();
                long t0 = mx.getCurrentThreadCpuTime();
                for (int rep = 0; rep < 300; rep++) {
                    if (k.equals("2x8")) {
                        for (int tp = 0; tp < 4; tp += 2) {
                            for (int b = 0; b + 8 <= n; b += 8) {
                                PanelKernels.gemm2x8(tile, cols * lanes, cols, x, b, out, null, 0, 0);
                                macs += 16L * lanes * cols;
                            }
                        }
                    } else {
                        for (int b = 0; b + 6 <= n; b += 6) {
                            PanelKernels.gemm4x6(tile, cols * lanes, cols, x, b, out);
                            macs += 24L * lanes * cols;
                        }
                    }
                }
                double s = (mx.getCurrentThreadCpuTime() - t0) / 1e9;
                System.out.printf("%s cols=%d: %.1f GMAC/s per CPU second%n", k, cols, macs / s / 1e9);
            }
        }
    }
}
