package io.tandem.engine.kernels;

/**
 * Q4_0 weights ({@link Q4Panels}) times 8-bit activations ({@link Q8Activations}): the integer dot product of each
 * 32-column block is exact, and the blocks are combined in column order as
 * {@code s = fma((float) Σ_block (q - 8) xq, dw * dx, s)} from {@code s = 0}. Every output is therefore the same bits
 * whatever the batch, the panel range, the thread or the implementation (scalar or vector).
 */
public interface Q4Kernels {

    /** The panel height the kernels want ({@link Q4Panels#pack}). */
    int panelRows();

    /** Panels a batched {@link #multiply} handles in one pass over the activations: the panels per task to give it. */
    default int batchPanels() {
        return 1;
    }

    /**
     * For panels {@code [p0, p1)} of {@code w} and items {@code [b0, b1)} of {@code x}: for every real row {@code r}
     * of those panels, {@code y[b * ldy + r] = (accumulate ? y[b * ldy + r] : 0) + s(r, b)}.
     */
    void multiply(Q4Panels w, int p0, int p1, Q8Activations x, int b0, int b1, float[] y, int ldy, boolean accumulate);

    /** {@code a.quantizeItems(src, i0, i1)}, the same values, possibly faster. */
    default void quantize(Q8Activations a, float[] src, int i0, int i1) {
        a.quantizeItems(src, i0, i1);
    }

    /** The vector kernels when {@code kernels} are the Vector API ones, else the scalar reference. */
    static Q4Kernels create(Kernels kernels) {
        if (kernels.name().startsWith("vector")) {
            try {
                return (Q4Kernels) Class.forName("io.tandem.engine.kernels.VectorQ4Kernels").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                throw new IllegalStateException("cannot load the Vector API Q4_0 kernels: " + e, e);
            }
        }
        return new ScalarQ4Kernels(32);
    }
}
