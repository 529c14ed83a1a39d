package io.tandem.engine.kernels;

/**
 * Multiplies Q4_0 weight panels by a batch of activation vectors on a {@link ComputePool}: the activations are
 * quantized once per call ({@link Q8Activations}, shared by all projections), then the panels are split into tasks;
 * a task reads its panels once for the whole batch. Results depend neither on the batch composition nor on the
 * thread count (see {@link Q4Kernels}). One {@link #multiply} at a time.
 */
public final class Q4MatMul {

    /** {@code out[b * w.rows() + r] (+)= W[r] · x[b]}: one weight and where its output goes. */
    public record Projection(Q4Panels w, float[] out, boolean accumulate) {
        public static Projection of(Q4Panels w, float[] out) {
            return new Projection(w, out, false);
        }

        public static Projection accumulating(Q4Panels w, float[] out) {
            return new Projection(w, out, true);
        }
    }

    /** Bounds of the rows per task with one activation vector (about four tasks per thread). */
    static final int MATVEC_MIN_ROWS = 64, MATVEC_MAX_ROWS = 512;
    /** Items quantized per task, at most (fewer when that leaves a thread idle: a decode batch of 16 is two tasks). */
    static final int QUANTIZE_ITEMS = 16;

    private final Q4Kernels kernels;
    private final ComputePool pool;
    private final Q8Activations act = new Q8Activations();

    public Q4MatMul(Q4Kernels kernels, ComputePool pool) {
        this.kernels = kernels;
        this.pool = pool;
    }

    public Q4Kernels kernels() {
        return kernels;
    }

    /** Packs a Q4_0 matrix for these kernels. */
    public Q4Panels pack(WeightMatrix w) {
        return Q4Panels.pack(w, kernels.panelRows());
    }

    /**
     * For each projection, {@code out[b * rows + r] = (accumulate ? out : 0) + W[r] · x[b * cols ..]} for
     * {@code b < n}, with {@code x} quantized to 8 bits per block of 32.
     */
    public void multiply(float[] x, int n, Projection... projections) {
        if (n <= 0) return;
        int cols = projections[0].w().cols();
        int panelsPerTask = n >= 4 ? kernels.batchPanels() : matvecPanels(projections);
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
            firstTask[p + 1] = firstTask[p] + (pr.w().panels() + panelsPerTask - 1) / panelsPerTask;
        }
        if (x.length < (long) n * cols) {
            throw new IllegalArgumentException("input holds " + x.length + " values, needs " + (long) n * cols);
        }
        act.reserve(n, cols);
        int perTask = Math.min(QUANTIZE_ITEMS, (n + pool.threads() - 1) / pool.threads());
        pool.run((n + perTask - 1) / perTask, (task, worker) ->
                kernels.quantize(act, x, task * perTask, Math.min(n, (task + 1) * perTask)));
        pool.run(firstTask[projections.length], (task, worker) -> {
            int p = 0;
            while (task >= firstTask[p + 1]) p++;
            Projection pr = projections[p];
            int p0 = (task - firstTask[p]) * panelsPerTask;
            int p1 = Math.min(pr.w().panels(), p0 + panelsPerTask);
            kernels.multiply(pr.w(), p0, p1, act, 0, n, pr.out(), pr.w().rows(), pr.accumulate());
        });
    }

    /** About four tasks per thread, each long enough for the prefetcher to follow its stream. */
    private int matvecPanels(Projection[] projections) {
        long total = 0;
        for (Projection p : projections) total += p.w().rows();
        long rows = Math.max(MATVEC_MIN_ROWS, Math.min(MATVEC_MAX_ROWS, total / (4L * pool.threads())));
        return (int) Math.max(1, rows / kernels.panelRows());
    }
}
