package io.tandem.engine.kernels;

/**
 * A batch of activation vectors quantized to 8 bits per block of 32 (as llama.cpp's q8_0 activations), laid out for
 * the Q4_0 panel kernels. A buffer reused from call to call (nothing is allocated once it is large enough); one
 * {@link #quantize} at a time.
 *
 * <p>Block {@code k} of item {@code i} ({@code blk = i * blocks + k}) holds the scale {@code d[blk] = max|x| / 127}
 * and the values {@code xq_c = rint(x_c / d)} in {@code [-127, 127]}, stored for the kernel's arithmetic modulo
 * {@code 2^16}, each twice in an int (one 32-bit broadcast then fills every 16-bit lane):
 * {@code x[32 blk + j] = xq_j} and {@code x[32 blk + 16 + j] = xq_{16+j} - 16 xq_j} for
 * {@code j < 16}, and {@code bias[blk] = -8 * Σ xq}. With a weight byte {@code w = lo + 16 hi} (two nibbles) and
 * {@code hi = w >>> 4}, {@code w * xq_j + hi * (xq_{16+j} - 16 xq_j) = lo * xq_j + hi * xq_{16+j}}, so a block's
 * {@code Σ (q - 8) xq} is {@code bias + Σ_j (w_j x[j] + hi_j x[16+j])} with one shift and no mask per byte. The true
 * sum lies within {@code ±32 * 8 * 127 = ±32512}, so the 16-bit result is exact.
 */
public final class Q8Activations {
    private int n, cols;
    private int[] x = new int[0];
    private short[] bias = new short[0];
    private float[] d = new float[0];

    /** Quantizes items {@code 0 .. n-1} of {@code src} ({@code cols} values each, {@code cols} a multiple of 32). */
    public Q8Activations quantize(float[] src, int n, int cols) {
        reserve(n, cols);
        return quantizeItems(src, 0, n);
    }

    /** Sizes the buffer for {@code n} items of {@code cols} values (then {@link #quantizeItems} ranges). */
    public void reserve(int n, int cols) {
        if (cols <= 0 || cols % 32 != 0) throw new IllegalArgumentException("cols " + cols + " is not a multiple of 32");
        int blocks = Math.multiplyExact(n, cols / 32);
        if (d.length < blocks) {
            x = new int[Math.multiplyExact(32, blocks)];
            bias = new short[blocks];
            d = new float[blocks];
        }
        this.n = n;
        this.cols = cols;
    }

    /**
     * Quantizes items {@code [i0, i1)} of {@code src} into a buffer {@link #reserve}d for them (ranges may run in
     * parallel). The reference; {@link Q4Kernels#quantize} gives the same values faster.
     */
    public Q8Activations quantizeItems(float[] src, int i0, int i1) {
        int blocks = cols / 32;
        for (int blk = i0 * blocks; blk < i1 * blocks; blk++) quantizeBlock(src, 32 * blk, blk);
        return this;
    }

    private void quantizeBlock(float[] src, int o, int blk) {
        float amax = 0;
        for (int c = 0; c < 32; c++) amax = Math.max(amax, Math.abs(src[o + c]));
        float scale = amax / 127f;
        float inv = scale == 0 ? 0 : 1f / scale;
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (int) Math.rint(src[o + j] * inv), hi = (int) Math.rint(src[o + 16 + j] * inv);
            x[o + j] = twice(lo);
            x[o + 16 + j] = twice(hi - 16 * lo);
            sum += lo + hi;
        }
        bias[blk] = (short) (-8 * sum);
        d[blk] = scale;
    }

    /** {@code v} modulo {@code 2^16} in both halves of an int: one 32-bit broadcast fills every 16-bit lane. */
    private static int twice(int v) {
        return (v & 0xffff) | (v << 16);
    }

    public int n() {
        return n;
    }

    public int cols() {
        return cols;
    }

    public int blocks() {
        return cols / 32;
    }

    /** The stored 16-bit values (see the class comment), 32 per block, each repeated in both halves of an int. */
    int[] x() {
        return x;
    }

    short[] bias() {
        return bias;
    }

    float[] d() {
        return d;
    }

    /** The quantized value {@code xq} of column {@code c} of item {@code i} (for reference code and tests). */
    int value(int i, int c) {
        int o = (i * blocks() + c / 32) * 32, j = c % 32;
        return j < 16 ? (short) x[o + j] : (short) (x[o + j] + 16 * x[o + j - 16]);
    }

    /** The scale of block {@code k} of item {@code i}. */
    float scale(int i, int k) {
        return d[i * blocks() + k];
    }
}
