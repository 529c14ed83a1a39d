package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.util.ArrayList;
import java.util.List;

/**
 * Multiplies weight matrices by a batch of activation vectors on a {@link ComputePool}. The rows of the weights are
 * split into tasks; within a task each weight row is read from memory once for the whole batch: up to three items
 * use the fused matvec per item (the task's rows stay in cache between items), more items decode a tile of rows once
 * and run the kernels' gemm over the batch. Weights come in either form of {@link LinearWeight}: packed panels (what
 * {@link #pack} gives the vector kernels) or the GGUF rows. Results depend neither on the batch composition nor on
 * the thread count. One {@link #multiply} at a time (tiles are per worker).
 */
public final class MatMul {

    /** {@code out[b * w.rows() + r] (+)= W[r] · x[b]}: one weight and where its output goes. */
    public record Projection(LinearWeight w, float[] out, boolean accumulate) {
        public static Projection of(LinearWeight w, float[] out) {
            return new Projection(w, out, false);
        }

        public static Projection accumulating(LinearWeight w, float[] out) {
            return new Projection(w, out, true);
        }
    }

    /** GGUF rows decoded together for a batch (a multiple of 4). */
    static final int TILE_ROWS = 16;
    /** Panels decoded together for a batch (what the panel gemm's register tile takes). */
    static final int TILE_PANELS = PanelKernels.TILE_PANELS;
    /** Batch items whose activations are kept hot while a GGUF-row tile is applied to them. */
    static final int BATCH_BLOCK = 64;
    /** Batches smaller than this use the fused matvec per item (on a task's rows, which stay in cache). */
    static final int MIN_GEMM_BATCH = 4;
    /** Bounds of the rows per task when there is one activation vector (a task streams 4 runs of a quarter each). */
    static final int MATVEC_MIN_ROWS = 16, MATVEC_MAX_ROWS = 256;

    private final Kernels kernels;
    private final ComputePool pool;
    private final float[][] tiles;
    private final float[][] scratch;
    private final Q4MatMul q4;

    public MatMul(Kernels kernels, ComputePool pool) {
        this.kernels = kernels;
        this.pool = pool;
        this.tiles = new float[pool.threads()][];
        this.scratch = new float[pool.threads()][kernels.panelScratch()];
        this.q4 = new Q4MatMul(Q4Kernels.create(kernels), pool);
    }

    public Kernels kernels() {
        return kernels;
    }

    public ComputePool pool() {
        return pool;
    }

    /**
     * The form of {@code w} this MatMul's kernels multiply fastest (see {@link Kernels#pack}); done once per model.
     * Q4_0 goes to the {@link Q4MatMul} panels (8-bit activations, 16-bit integer block sums) with every kernel backend,
     * so scalar and vector kernels give the same bits for it too.
     */
    public LinearWeight pack(WeightMatrix w) {
        return w.type() == GgufTensorType.Q4_0 ? new Q4PanelMatrix(w, q4.pack(w)) : kernels.pack(w);
    }

    private static boolean hasQ4(Projection[] projections) {
        for (Projection p : projections) if (p.w() instanceof Q4PanelMatrix) return true;
        return false;
    }

    /** The Q4_0 projections through {@link Q4MatMul} (which quantizes {@code x} once for all of them), then the rest. */
    private void multiplySplit(float[] x, int n, Projection[] projections) {
        List<Q4MatMul.Projection> q4s = new ArrayList<>();
        List<Projection> rest = new ArrayList<>();
        for (Projection p : projections) {
            if (p.w() instanceof Q4PanelMatrix q) q4s.add(new Q4MatMul.Projection(q.panels(), p.out(), p.accumulate()));
            else rest.add(p);
        }
        q4.multiply(x, n, q4s.toArray(Q4MatMul.Projection[]::new));
        if (!rest.isEmpty()) multiply(x, n, rest.toArray(Projection[]::new));
    }

    /**
     * For each projection, {@code out[b * rows + r] = (accumulate ? out : 0) + W[r] · x[b * cols ..]} for
     * {@code b < n}. All weights must have {@code cols} columns; {@code x} holds {@code n} rows of {@code cols}.
     */
    public void multiply(float[] x, int n, Projection... projections) {
        if (n <= 0) return;
        if (hasQ4(projections)) {
            multiplySplit(x, n, projections);
            return;
        }
        int cols = projections[0].w().source().cols();
        boolean gemm = n >= MIN_GEMM_BATCH;
        int ggufRows = gemm ? TILE_ROWS : matvecRows(projections);
        int panels = gemm ? TILE_PANELS : matvecPanels(projections);
        int[] firstTask = new int[projections.length + 1];
        int[] perTask = new int[projections.length];
        for (int p = 0; p < projections.length; p++) {
            Projection pr = projections[p];
            WeightMatrix w = pr.w().source();
            if (w.cols() != cols) {
                throw new IllegalArgumentException(w.name() + " has " + w.cols() + " columns, expected " + cols);
            }
            if (pr.out().length < (long) n * w.rows()) {
                throw new IllegalArgumentException("output for " + w.name() + " holds " + pr.out().length
                        + " values, needs " + (long) n * w.rows());
            }
            int units = switch (pr.w()) {
                case PanelMatrix pm -> {
                    perTask[p] = panels;
                    yield pm.panels();
                }
                case WeightMatrix m -> {
                    perTask[p] = ggufRows;
                    yield m.rows();
                }
                case Q4PanelMatrix q -> throw new AssertionError("Q4_0 goes through multiplySplit");
            };
            firstTask[p + 1] = firstTask[p] + (units + perTask[p] - 1) / perTask[p];
        }
        if (x.length < (long) n * cols) {
            throw new IllegalArgumentException("input holds " + x.length + " values, needs " + (long) n * cols);
        }
        pool.run(firstTask[projections.length], (task, worker) -> {
            int p = 0;
            while (task >= firstTask[p + 1]) p++;
            Projection pr = projections[p];
            int from = (task - firstTask[p]) * perTask[p];
            switch (pr.w()) {
                case PanelMatrix pm -> panels(pm, from, Math.min(pm.panels(), from + perTask[p]), x, n, pr, worker);
                case WeightMatrix m -> rows(m, from, Math.min(m.rows(), from + perTask[p]), x, n, pr, worker);
                case Q4PanelMatrix q -> throw new AssertionError("Q4_0 goes through multiplySplit");
            }
        });
    }

    private void panels(PanelMatrix w, int p0, int p1, float[] x, int n, Projection pr, int worker) {
        int rows = w.rows(), cols = w.cols();
        float[] s = scratch[worker];
        if (n < MIN_GEMM_BATCH) {
            for (int b = 0; b < n; b++) kernels.matvec(w, p0, p1, x, b * cols, pr.out(), b * rows, pr.accumulate(), s);
            return;
        }
        if (kernels.gemmsInPlace(w, n)) {
            kernels.gemmInPlace(w, p1 - p0, p0, x, 0, n, pr.out(), rows, pr.accumulate(), s);
            return;
        }
        float[] tile = tile(worker, (p1 - p0) * w.lanes() * cols);
        for (int p = p0; p < p1; p++) kernels.decode(w, p, tile, (p - p0) * w.lanes() * cols);
        kernels.gemm(w, tile, p1 - p0, p0, x, 0, n, pr.out(), rows, pr.accumulate(), s);
    }

    private void rows(WeightMatrix w, int r0, int r1, float[] x, int n, Projection pr, int worker) {
        int rows = w.rows(), cols = w.cols();
        // Q8_0 chains apply each block's scale to the block's sum, which a tile of decoded weights does not hold
        if (n < MIN_GEMM_BATCH || w.type() == GgufTensorType.Q8_0) {
            for (int b = 0; b < n; b++) kernels.matvec(w, r0, r1, x, b * cols, pr.out(), b * rows, pr.accumulate());
            return;
        }
        float[] tile = tile(worker, TILE_ROWS * cols);
        kernels.dequantize(w, r0, r1, tile, 0);
        for (int b = 0; b < n; b += BATCH_BLOCK) {
            kernels.gemm(tile, r1 - r0, cols, r0, x, b, Math.min(n, b + BATCH_BLOCK), pr.out(), rows, pr.accumulate());
        }
    }

    /** About four tasks per thread, each long enough for the prefetcher to follow its streams. */
    private int matvecRows(Projection[] projections) {
        long total = 0;
        for (Projection p : projections) total += p.w().source().rows();
        long per = total / (4L * pool.threads());
        return (int) Math.max(MATVEC_MIN_ROWS, Math.min(MATVEC_MAX_ROWS, per)) & ~3;
    }

    /**
     * The same for panels: about four tasks per thread, of 4 to 16 panels, a multiple of the 4 panels the matvec
     * streams side by side (a shorter group costs as much as a full one).
     */
    private int matvecPanels(Projection[] projections) {
        long total = 0;
        for (Projection p : projections) {
            if (p.w() instanceof PanelMatrix pm) total += pm.panels();
        }
        return (int) Math.max(4, Math.min(16, total / (4L * pool.threads()))) & ~3;
    }

    private float[] tile(int worker, int size) {
        float[] t = tiles[worker];
        if (t == null || t.length < size) tiles[worker] = t = new float[Math.max(size, TILE_ROWS * 1024)];
        return t;
    }
}
