package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Q4_0 panel kernels: exact packing, scalar == vector bit for bit, batch invariance, and the error bound of 8-bit activations. */
class Q4KernelsTest {
    private static final Q4Kernels VECTOR = Q4Kernels.create(Kernels.create(KernelMode.VECTOR));
    private static final Q4Kernels SCALAR = new ScalarQ4Kernels(VECTOR.panelRows());

    private static WeightMatrix q4(Random rnd, int rows, int cols) {
        return TestTensors.matrix(GgufTensorType.Q4_0, rows, cols, TestTensors.random(rnd, rows * cols, 0.05f));
    }

    @Test
    void packingKeepsEveryValue() {
        WeightMatrix w = q4(new Random(1), 45, 96);
        Q4Panels p = Q4Panels.pack(w, 16);
        assertEquals(3, p.panels());
        for (int r = 0; r < w.rows(); r++) {
            for (int c = 0; c < w.cols(); c++) {
                assertEquals(w.get(r, c), p.scale(r, c / 32) * (p.nibble(r, c) - 8), "row " + r + " col " + c);
            }
        }
    }

    @Test
    void activationsRoundToTheBlockScale() {
        Random rnd = new Random(2);
        float[] x = TestTensors.random(rnd, 3 * 64, 1f);
        x[5] = 0; // and one all-zero block
        for (int c = 64; c < 96; c++) x[c] = 0;
        Q8Activations a = new Q8Activations().quantize(x, 3, 64);
        for (int i = 0; i < 3; i++) {
            for (int c = 0; c < 64; c++) {
                float d = a.scale(i, c / 32);
                int q = a.value(i, c);
                assertTrue(q >= -127 && q <= 127, "value " + q);
                assertTrue(Math.abs(x[i * 64 + c] - d * q) <= d / 2 * 1.0001f, "item " + i + " col " + c);
            }
        }
        assertEquals(0f, a.scale(1, 0));
    }

    @Test
    void vectorQuantizationGivesTheReferenceValues() {
        Random rnd = new Random(6);
        int n = 5, cols = 256;
        float[] x = TestTensors.random(rnd, n * cols, 1f);
        for (int c = 32; c < 64; c++) x[c] = 0; // a zero block
        for (int c = 64; c < 96; c++) x[c] = (c - 80) + 0.5f; // amax 15.5 and ties: x / d lands on halves
        x[200] = 1e30f;
        Q8Activations ref = new Q8Activations().quantize(x, n, cols);
        Q8Activations vec = new Q8Activations();
        vec.reserve(n, cols);
        VECTOR.quantize(vec, x, 0, n);
        for (int i = 0; i < n * cols / 32; i++) {
            assertEquals(ref.bias()[i], vec.bias()[i], "bias of block " + i);
            assertEquals(Float.floatToRawIntBits(ref.d()[i]), Float.floatToRawIntBits(vec.d()[i]), "scale of block " + i);
        }
        for (int i = 0; i < n * cols; i++) assertEquals(ref.x()[i], vec.x()[i], "value " + i);
    }

    @ParameterizedTest
    @CsvSource({"1, 64, 32", "64, 96, 1", "45, 96, 3", "100, 768, 9", "33, 256, 5", "230, 128, 13"})
    void vectorGivesTheScalarBits(int rows, int cols, int n) {
        Random rnd = new Random(rows * 31 + cols);
        Q4Panels w = Q4Panels.pack(q4(rnd, rows, cols), VECTOR.panelRows());
        Q8Activations x = new Q8Activations().quantize(TestTensors.random(rnd, n * cols, 1f), n, cols);
        float[] init = TestTensors.random(rnd, n * rows, 1f);
        for (boolean accumulate : new boolean[] {false, true}) {
            float[] ys = init.clone(), yv = init.clone();
            SCALAR.multiply(w, 0, w.panels(), x, 0, n, ys, rows, accumulate);
            VECTOR.multiply(w, 0, w.panels(), x, 0, n, yv, rows, accumulate);
            for (int i = 0; i < ys.length; i++) {
                assertEquals(Float.floatToRawIntBits(ys[i]), Float.floatToRawIntBits(yv[i]),
                        "output " + i + " (accumulate " + accumulate + "): " + ys[i] + " vs " + yv[i]);
            }
        }
    }

    @Test
    void batchedGivesTheBitsOfEachItemAlone() {
        Random rnd = new Random(3);
        int rows = 300, cols = 768, n = 11;
        Q4Panels w1 = Q4Panels.pack(q4(rnd, rows, cols), VECTOR.panelRows());
        Q4Panels w2 = Q4Panels.pack(q4(rnd, 70, cols), VECTOR.panelRows());
        float[] x = TestTensors.random(rnd, n * cols, 1f);
        try (ComputePool pool = new ComputePool(2)) {
            Q4MatMul mm = new Q4MatMul(VECTOR, pool);
            float[] y1 = new float[n * rows], y2 = new float[n * 70];
            mm.multiply(x, n, Q4MatMul.Projection.of(w1, y1), Q4MatMul.Projection.of(w2, y2));
            for (int b = 0; b < n; b++) {
                float[] xb = new float[cols];
                System.arraycopy(x, b * cols, xb, 0, cols);
                float[] a1 = new float[rows], a2 = new float[70];
                new Q4MatMul(SCALAR, pool).multiply(xb, 1, Q4MatMul.Projection.of(w1, a1));
                mm.multiply(xb, 1, Q4MatMul.Projection.of(w2, a2));
                for (int r = 0; r < rows; r++) assertEquals(Float.floatToRawIntBits(a1[r]), Float.floatToRawIntBits(y1[b * rows + r]), "item " + b + " row " + r);
                for (int r = 0; r < 70; r++) assertEquals(Float.floatToRawIntBits(a2[r]), Float.floatToRawIntBits(y2[b * 70 + r]), "item " + b + " row " + r);
            }
        }
    }

    /**
     * Against the exact product of the decoded weights and the float activations: quantizing x moves each value by
     * at most half its block's step, so the error is at most {@code Σ_c |w_c| d_x(c) / 2} plus float rounding.
     */
    @Test
    void errorStaysWithinTheQuantizationBound() {
        Random rnd = new Random(5);
        int rows = 200, cols = 768;
        WeightMatrix wm = q4(rnd, rows, cols);
        Q4Panels w = Q4Panels.pack(wm, VECTOR.panelRows());
        float[] x = TestTensors.random(rnd, cols, 1f);
        Q8Activations a = new Q8Activations().quantize(x, 1, cols);
        float[] y = new float[rows];
        VECTOR.multiply(w, 0, w.panels(), a, 0, 1, y, rows, false);
        double worstRatio = 0;
        for (int r = 0; r < rows; r++) {
            double exact = 0, bound = 0, mag = 0;
            for (int c = 0; c < cols; c++) {
                exact += (double) wm.get(r, c) * x[c];
                bound += Math.abs(wm.get(r, c)) * a.scale(0, c / 32) / 2;
                mag += Math.abs((double) wm.get(r, c) * x[c]);
            }
            double err = Math.abs(y[r] - exact);
            assertTrue(err <= bound + 1e-5 * mag, "row " + r + ": error " + err + " above the bound " + bound);
            worstRatio = Math.max(worstRatio, err / bound);
        }
        assertTrue(worstRatio > 0, "quantization must change something");
    }
}
