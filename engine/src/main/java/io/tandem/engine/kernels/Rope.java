package io.tandem.engine.kernels;

/**
 * Rotary position embedding over the first {@code dims} values of a head. Pair {@code i < dims/2} is rotated by
 * {@code pos * base^(-2i/dims) * freqScale / freqFactor[i]}: pairs {@code (2i, 2i+1)} in the normal (GPT-J/llama)
 * ordering, {@code (i, i + dims/2)} in the NeoX ordering (qwen2, qwen3). {@code freqScale} is 1 / the linear
 * scaling factor; {@code freqFactors} (llama 3.1's {@code rope_freqs}) may be null.
 */
public final class Rope {
    private final int dims;
    private final boolean neox;
    private final double[] invFreq;

    public Rope(int dims, boolean neox, double base, double freqScale, float[] freqFactors) {
        if (dims <= 0 || dims % 2 != 0) throw new IllegalArgumentException("rope dimensions must be even, got " + dims);
        if (freqFactors != null && freqFactors.length != dims / 2) {
            throw new IllegalArgumentException("rope frequency factors have " + freqFactors.length + " values, expected "
                    + dims / 2);
        }
        this.dims = dims;
        this.neox = neox;
        this.invFreq = new double[dims / 2];
        for (int i = 0; i < dims / 2; i++) {
            invFreq[i] = Math.pow(base, -2.0 * i / dims) * freqScale / (freqFactors == null ? 1.0 : freqFactors[i]);
        }
    }

    /** Number of (cos, sin) pairs per position. */
    public int pairs() {
        return dims / 2;
    }

    /** Writes the rotation of {@code pos} to {@code cos[off + i]}, {@code sin[off + i]} for each pair. */
    public void angles(int pos, float[] cos, float[] sin, int off) {
        for (int i = 0; i < invFreq.length; i++) {
            double theta = pos * invFreq[i];
            cos[off + i] = (float) Math.cos(theta);
            sin[off + i] = (float) Math.sin(theta);
        }
    }

    /** Rotates the head at {@code x[xOff ..]} in place with angles from {@link #angles}. */
    public void apply(float[] x, int xOff, float[] cos, float[] sin, int off) {
        int half = dims / 2;
        for (int i = 0; i < half; i++) {
            int a = neox ? xOff + i : xOff + 2 * i;
            int b = neox ? a + half : a + 1;
            float c = cos[off + i], s = sin[off + i];
            float x0 = x[a], x1 = x[b];
            x[a] = x0 * c - x1 * s;
            x[b] = x0 * s + x1 * c;
        }
    }
}
