package io.tandem.engine.kernels;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The building blocks the vector kernels' bit-for-bit batch invariance rests on. */
class VectorKernelsTest {
    private static final int L = VectorKernels.floatSpecies().length();

    @Test
    void jointReductionGivesTheBitsOfTheSingleOne() {
        Random rnd = new Random(4);
        float[] acc = new float[4 * L + 4];
        for (int round = 0; round < 10_000; round++) {
            for (int i = 0; i < 4 * L; i++) acc[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8) - 4));
            VectorKernels.reduce4(acc, 0, acc, 4 * L);
            for (int j = 0; j < 4; j++) {
                float single = VectorKernels.sum(FloatVector.fromArray(VectorKernels.floatSpecies(), acc, j * L));
                assertEquals(Float.floatToRawIntBits(single), Float.floatToRawIntBits(acc[4 * L + j]), "accumulator " + j);
            }
        }
    }

    @Test
    void expIsAccurate() {
        float[] x = new float[L];
        float maxUlps = 0, worst = 0;
        for (float v = -87f; v <= 87.9f; v += 0.0137f) {
            for (int i = 0; i < L; i++) x[i] = v + i * 1e-3f;
            float[] y = VectorKernels.exp(FloatVector.fromArray(VectorKernels.floatSpecies(), x, 0)).toArray();
            for (int i = 0; i < L; i++) {
                double ref = Math.exp(x[i]);
                float ulps = (float) (Math.abs(y[i] - ref) / Math.ulp((float) ref));
                if (ulps > maxUlps) {
                    maxUlps = ulps;
                    worst = x[i];
                }
            }
        }
        assertTrue(maxUlps <= 3, "exp is off by " + maxUlps + " ulp at " + worst);
        float[] big = VectorKernels.exp(FloatVector.broadcast(VectorKernels.floatSpecies(), -200f)).toArray();
        assertTrue(big[0] >= 0 && big[0] < 1e-37f, "exp(-200) = " + big[0]);
    }

    /** Inputs beyond [-87.3, 88] get the value at the bound, bit for bit; NaN stays NaN. */
    @Test
    void expClampsToItsRange() {
        float atLow = exp1(-87.3f), atHigh = exp1(88f);
        for (float v : new float[] {-87.31f, -1000f, -Float.MAX_VALUE, Float.NEGATIVE_INFINITY}) {
            assertEquals(Float.floatToRawIntBits(atLow), Float.floatToRawIntBits(exp1(v)), "exp(" + v + ")");
        }
        for (float v : new float[] {88.01f, 1000f, Float.MAX_VALUE, Float.POSITIVE_INFINITY}) {
            assertEquals(Float.floatToRawIntBits(atHigh), Float.floatToRawIntBits(exp1(v)), "exp(" + v + ")");
        }
        assertTrue(Float.isFinite(atHigh) && atHigh > 1e38f, "exp(88) = " + atHigh);
        assertTrue(Float.isNaN(exp1(Float.NaN)), "exp(NaN)");
    }

    /** A NaN among the scores makes every output of the softmax NaN: it is never taken for a small score. */
    @Test
    void aNanScoreMakesTheWholeSoftmaxNan() {
        for (int n : new int[] {1, 5, L, 3 * L + 2}) {
            for (int at = 0; at < n; at++) {
                float[] x = new float[n];
                for (int i = 0; i < n; i++) x[i] = i * 0.25f;
                x[at] = Float.NaN;
                new VectorKernels().softmax(x, 0, n);
                for (int i = 0; i < n; i++) assertTrue(Float.isNaN(x[i]), "n=" + n + ", NaN at " + at + ": x[" + i + "]");
            }
        }
    }

    private static float exp1(float v) {
        return VectorKernels.exp(FloatVector.broadcast(VectorKernels.floatSpecies(), v)).lane(0);
    }
}
