package io.tandem.engine.kernels;

/** The Q4_0 kernels in plain Java, one output at a time: the reference for {@link Q4Kernels}' arithmetic. */
final class ScalarQ4Kernels implements Q4Kernels {
    private final int panelRows;

    ScalarQ4Kernels(int panelRows) {
        this.panelRows = panelRows;
    }

    @Override
    public int panelRows() {
        return panelRows;
    }

    @Override
    public void multiply(Q4Panels w, int p0, int p1, Q8Activations x, int b0, int b1, float[] y, int ldy,
                         boolean accumulate) {
        int r1 = Math.min(w.rows(), p1 * w.panelRows());
        for (int b = b0; b < b1; b++) {
            for (int r = p0 * w.panelRows(); r < r1; r++) {
                float s = dot(w, r, x, b);
                int at = b * ldy + r;
                y[at] = accumulate ? y[at] + s : s;
            }
        }
    }

    static float dot(Q4Panels w, int r, Q8Activations x, int item) {
        float s = 0;
        for (int k = 0; k < w.blocks(); k++) {
            int isum = 0;
            for (int c = 32 * k; c < 32 * k + 32; c++) isum += (w.nibble(r, c) - 8) * x.value(item, c);
            s = Math.fma((float) isum, w.scale(r, k) * x.scale(item, k), s);
        }
        return s;
    }
}
