package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.util.Random;

/**
 * Single-thread throughput of the tile gemm ({@link PanelKernels#gemm}, a decoded four-panel tile x 48 items, 768
 * columns) on Q8_0 panels, either alone in the JVM or with F32 panels multiplied between the measured rounds, from the
 * start (a tool, not a test). The JIT compiles the kernels for what it has seen: if they branched on the type, a JVM
 * serving a model that mixes types, or two models, would run Q8_0 slower than one that served Q8_0 only. Args:
 * {@code alone} | {@code mixed} | {@code f32} (F32 panels alone).
 */
public final class GemmMixSpeed {
    public static void main(String[] args) {
        String mode = args.length > 0 ? args[0] : "mixed";
        int cols = 768, n = 48, rows = 64, reps = 2000;
        Random rnd = new Random(1);
        PanelMatrix q8 = panels(GgufTensorType.Q8_0, rows, cols, rnd);
        PanelMatrix f32 = panels(GgufTensorType.F32, rows, cols, rnd);
        int lanes = q8.lanes();
        float[] q8Tile = tile(q8, cols), f32Tile = tile(f32, cols);
        float[] x = TestTensors.random(rnd, n * cols, 1f), y = new float[n * rows], scratch = new float[64 * lanes];
        PanelMatrix measured = mode.equals("f32") ? f32 : q8;
        float[] measuredTile = mode.equals("f32") ? f32Tile : q8Tile;
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 8; round++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int rep = 0; rep < reps; rep++) {
                PanelKernels.gemm(measured, measuredTile, 4, 0, x, 0, n, y, rows, false, scratch);
            }
            double s = (mx.getCurrentThreadCpuTime() - t0) / 1e9;
            if (mode.equals("mixed")) {
                for (int rep = 0; rep < reps; rep++) {
                    PanelKernels.gemm(f32, f32Tile, 4, 0, x, 0, n, y, rows, false, scratch);
                }
            }
            System.out.printf("%s, round %d: %s tile gemm %.1f G MAC/s per CPU second%n", mode, round,
                    measured.source().type(), (double) reps * rows * cols * n / s / 1e9);
        }
    }

    private static PanelMatrix panels(GgufTensorType type, int rows, int cols, Random rnd) {
        return PanelKernels.pack(TestTensors.matrix(type, rows, cols, TestTensors.random(rnd, rows * cols, 0.1f)));
    }

    private static float[] tile(PanelMatrix w, int cols) {
        float[] t = new float[w.panels() * w.lanes() * cols];
        for (int p = 0; p < w.panels(); p++) PanelKernels.decode(w, p, 0, cols, t, p * w.lanes() * cols);
        return t;
    }
}
