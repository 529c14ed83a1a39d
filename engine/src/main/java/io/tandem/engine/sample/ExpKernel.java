package io.tandem.engine.sample;

/**
 * Softmax weights of a logits row: {@code out[i] = e^((x[off + i] - max) * scale)}, the
 * probability of token i relative to the most likely one. Arguments below -87 (relative
 * probability under 1.6e-38), minus infinity and NaN give exactly 0, so masked tokens can never
 * be drawn.
 *
 * <p>The exponential is computed in float by range reduction ({@code e^z = 2^n * e^r}) and a
 * degree-7 polynomial for {@code e^r} on {@code |r| <= ln2/2}, relative error below 1e-7 — from
 * plain adds and multiplies only, so the vector and scalar implementations agree bit for bit and
 * a seeded sample never depends on which one ran. The vector one is used when the
 * {@code jdk.incubator.vector} module is present; it is about ten times faster than
 * {@link Math#exp} on a 152k vocabulary.
 */
interface ExpKernel {
    float MIN_ARG = -87f;
    float LOG2E = 1.44269504088896341f;
    float LN2_HI = 0.693359375f;   // ln 2 split so n * LN2_HI is exact for the n that occur
    float LN2_LO = -2.12194440e-4f;
    float C6 = 1.9875691500e-4f, C5 = 1.3981999507e-3f, C4 = 8.3334519073e-3f, C3 = 4.1665795894e-2f,
            C2 = 1.6666665459e-1f, C1 = 5.0000001201e-1f;

    void weights(float[] x, int off, int n, float max, float scale, float[] out);

    /** The fastest implementation available in this JVM. */
    static ExpKernel best() {
        return Holder.BEST;
    }

    /** {@code e^z} for {@code z <= 0}; 0 when {@code z < MIN_ARG} or NaN. The scalar reference of every implementation. */
    static float exp(float z) {
        if (!(z >= MIN_ARG)) return 0f;
        int n = (int) (z * LOG2E - 0.5f); // round to nearest for z <= 0
        float r = z - n * LN2_HI - n * LN2_LO;
        float p = C6;
        p = p * r + C5;
        p = p * r + C4;
        p = p * r + C3;
        p = p * r + C2;
        p = p * r + C1;
        float e = p * r * r + r + 1f;
        return e * Float.intBitsToFloat((n + 127) << 23);
    }

    final class Scalar implements ExpKernel {
        @Override
        public void weights(float[] x, int off, int n, float max, float scale, float[] out) {
            for (int i = 0; i < n; i++) out[i] = exp((x[off + i] - max) * scale);
        }
    }

    final class Holder {
        static final ExpKernel BEST = load();

        private static ExpKernel load() {
            try {
                return (ExpKernel) Class.forName("io.tandem.engine.sample.VectorExp").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) { // module absent: jdk.incubator.vector not added
                return new Scalar();
            }
        }
    }
}
