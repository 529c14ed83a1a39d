package io.tandem.engine.kernels;

import java.util.Random;

/**
 * Single-thread throughput of the panel gemm's microkernels on one decoded four-panel tile, without block scales (a
 * tool, not a test). Args: [cols] [items].
 */
public final class GemmSpeed {
    public static void main(String[] args) {
        int cols = args.length > 0 ? Integer.parseInt(args[0]) : 768;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 48;
        int lanes = VectorKernels.lanes();
        Random rnd = new Random(1);
        float[] tile = TestTensors.random(rnd, 4 * lanes * cols, 1f);
        float[] x = TestTensors.random(rnd, n * cols, 1f);
        float[] out = new float[64 * lanes];
        var ones = PanelKernels.NO_SCALES;
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 5; round++) {
            for (int items : new int[] {6, 4}) {
                long macs = 0;
                long t0 = mx.getCurrentThreadCpuTime();
                for (int rep = 0; rep < 300; rep++) {
                    for (int b = 0; b + items <= n; b += items) {
                        if (items == 6) PanelKernels.gemm4x6(tile, 4, cols, x, b, n - 1, out, ones, 0, 0, 0);
                        else PanelKernels.gemm4x4(tile, 4, cols, x, b, n - 1, out, ones, 0, 0, 0);
                        macs += 4L * items * lanes * cols;
                    }
                }
                double s = (mx.getCurrentThreadCpuTime() - t0) / 1e9;
                System.out.printf("4x%d cols=%d: %.1f GMAC/s per CPU second%n", items, cols, macs / s / 1e9);
            }
        }
    }
}
