package io.tandem.engine.kernels;

/**
 * Multiplies weight matrices by a batch of activation vectors on a {@link ComputePool}. The rows of the weights are
 * split into tasks; within a task each weight row is read from memory once for the whole batch: up to three items
 * use the fused {@link Kernels#matvec} (the task's rows stay in cache between items), more items decode a tile of
 * rows once and run {@link Kernels#gemm} over the batch in cache-sized blocks. Results depend neither on the batch
 * composition nor on the thread count. One {@link #multiply} at a time (tiles are per worker).
 */
public final class MatMul {

    /** {@code out[b * w.rows() + r] (+)= W[r] · x[b]}: one weight and where its output goes. */
    public record Projection(WeightMatrix w, float[] out, boolean accumulate) {
        public static Projection of(WeightMatrix w, float[] out) {
            return new Projection(w, out, false);
        }

        public static Projection accumulating(WeightMatrix w, float[] out) {
            return new Projection(w, out, true);
        }
    }

    /** Rows decoded together for a batch (a multiple of 4). */
    static final int TILE_ROWS = 16;
    /** Batch items whose activations are kept hot while a tile is applied to them. */
    static final int BATCH_BLOCK = 64;
    /** Batches smaller than this use the fused matvec per item (on a task's rows, which stay in cache). */
    static final int MIN_GEMM_BATCH = 4;
    /** Bounds of the rows per task when there is one activation vector (a task streams 4 runs of a quarter each). */
    static final int MATVEC_MIN_ROWS = 16, MATVEC_MAX_ROWS = 256;

    private final Kernels kernels;
    private final ComputePool pool;
    private final float[][] tiles;
    private final Q4Dispatch q4;

    public MatMul(Kernels kernels, ComputePool pool) {
        this.kernels = kernels;
        this.pool = pool;
        this.tiles = new float[pool.threads()][];
        this.q4 = Q4Dispatch.create(kernels, pool);
    }

    public Kernels kernels() {
        return kernels;
    }

    public ComputePool pool() {
        return pool;
    }

    /**
     * For each projection, {@code out[b * rows + r] = (accumulate ? out : 0) + W[r] · x[b * cols ..]} for
     * {@code b < n}. All weights must have {@code cols} columns; {@code x} holds {@code n} rows of {@code cols}.
     */
    public void multiply(float[] x, int n, Projection... projections) {
        if (n <= 0) return;
        if (q4 != null && Q4Dispatch.handles(projections)) {
            q4.multiply(x, n, projections);
            return;
        }
        int cols = projections[0].w().cols();
        boolean gemm = n >= MIN_GEMM_BATCH;
        int rowsPerTask = gemm ? TILE_ROWS : matvecRows(projections);
        int[] firstTask = new int[projections.length + 1];
        for (int p = 0; p < projections.length; p++) {
            Projection pr = projections[p];
            if (pr.w().cols() != cols) {
                throw new IllegalArgumentException(pr.w().name() + " has " + pr.w().cols() + " columns, expected " + cols);
            }
            if (pr.out().length < (long) n * pr.w().rows()) {
                throw new IllegalArgumentException("output for " + pr.w().name() + " holds " + pr.out().length
                        + " values, needs " + (long) n * pr.w().rows());
            }
            firstTask[p + 1] = firstTask[p] + (pr.w().rows() + rowsPerTask - 1) / rowsPerTask;
        }
        if (x.length < (long) n * cols) {
            throw new IllegalArgumentException("input holds " + x.length + " values, needs " + (long) n * cols);
        }
        pool.run(firstTask[projections.length], (task, worker) -> {
            int p = 0;
            while (task >= firstTask[p + 1]) p++;
            Projection pr = projections[p];
            int rows = pr.w().rows();
            int r0 = (task - firstTask[p]) * rowsPerTask;
            int r1 = Math.min(rows, r0 + rowsPerTask);
            if (!gemm) {
                for (int b = 0; b < n; b++) kernels.matvec(pr.w(), r0, r1, x, b * cols, pr.out(), b * rows, pr.accumulate());
            } else {
                float[] tile = tile(worker, cols);
                kernels.dequantize(pr.w(), r0, r1, tile, 0);
                for (int b = 0; b < n; b += BATCH_BLOCK) {
                    kernels.gemm(tile, r1 - r0, cols, r0, x, b, Math.min(n, b + BATCH_BLOCK), pr.out(), rows,
                            pr.accumulate());
                }
            }
        });
    }

    /** About four tasks per thread, each long enough for the prefetcher to follow its streams. */
    private int matvecRows(Projection[] projections) {
        long total = 0;
        for (Projection p : projections) total += p.w().rows();
        long per = total / (4L * pool.threads());
        return (int) Math.max(MATVEC_MIN_ROWS, Math.min(MATVEC_MAX_ROWS, per)) & ~3;
    }

    private float[] tile(int worker, int cols) {
        float[] t = tiles[worker];
        if (t == null || t.length < TILE_ROWS * cols) tiles[worker] = t = new float[TILE_ROWS * cols];
        return t;
    }
}
