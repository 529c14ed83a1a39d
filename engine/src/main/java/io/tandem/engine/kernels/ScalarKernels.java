package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.tandem.engine.kernels.WeightMatrix.FLOAT_LE;
import static io.tandem.engine.kernels.WeightMatrix.SHORT_LE;

/**
 * Plain-Java kernels: the fallback when the Vector API is absent, and a second implementation the vector kernels
 * are tested against. Each dot product is the same blocked fused-multiply-add chain ({@link #dot}), so {@link #matvec}
 * and {@link #gemm} agree bit for bit. Q8_0 rows apply each block's scale to the block's chain ({@link #dotQ8}), which
 * a decoded tile cannot reproduce: {@link MatMul} multiplies them item by item.
 */
public final class ScalarKernels implements Kernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void matvec(WeightMatrix w, int r0, int r1, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        if (w.type() == GgufTensorType.Q8_0) {
            for (int r = r0; r < r1; r++) {
                float s = dotQ8(w, r, x, xOff);
                y[yOff + r] = accumulate ? y[yOff + r] + s : s;
            }
            return;
        }
        float[] row = new float[w.cols()];
        for (int r = r0; r < r1; r++) {
            dequantize(w, r, r + 1, row, 0);
            float s = dot(row, 0, x, xOff, row.length);
            y[yOff + r] = accumulate ? y[yOff + r] + s : s;
        }
    }

    @Override
    public void dequantize(WeightMatrix w, int r0, int r1, float[] dst, int dOff) {
        MemorySegment seg = w.data();
        int cols = w.cols();
        for (int r = r0; r < r1; r++) {
            long base = r * w.rowBytes();
            int o = dOff + (r - r0) * cols;
            switch (w.type()) {
                case F32 -> MemorySegment.copy(seg, FLOAT_LE, base, dst, o, cols);
                case F16 -> {
                    for (int c = 0; c < cols; c++) dst[o + c] = Float.float16ToFloat(seg.get(SHORT_LE, base + 2L * c));
                }
                case BF16 -> {
                    for (int c = 0; c < cols; c++) {
                        dst[o + c] = Float.intBitsToFloat((seg.get(SHORT_LE, base + 2L * c) & 0xffff) << 16);
                    }
                }
                case Q8_0 -> {
                    for (int b = 0; b < cols / 32; b++) {
                        long bo = base + b * 34L;
                        float d = Float.float16ToFloat(seg.get(SHORT_LE, bo));
                        for (int j = 0; j < 32; j++) dst[o + b * 32 + j] = d * seg.get(ValueLayout.JAVA_BYTE, bo + 2 + j);
                    }
                }
                case Q4_0 -> {
                    for (int b = 0; b < cols / 32; b++) {
                        long bo = base + b * 18L;
                        float d = Float.float16ToFloat(seg.get(SHORT_LE, bo));
                        for (int j = 0; j < 16; j++) {
                            int q = seg.get(ValueLayout.JAVA_BYTE, bo + 2 + j) & 0xff;
                            dst[o + b * 32 + j] = d * ((q & 0xf) - 8);
                            dst[o + b * 32 + 16 + j] = d * ((q >>> 4) - 8);
                        }
                    }
                }
                default -> throw new UnsupportedTensorTypeException(w.name(), w.type());
            }
        }
    }

    @Override
    public void gemm(float[] tile, int rows, int cols, int rowBase, float[] x, int b0, int b1, float[] y, int ldy,
                     boolean accumulate) {
        for (int b = b0; b < b1; b++) {
            for (int i = 0; i < rows; i++) {
                float s = dot(tile, i * cols, x, b * cols, cols);
                int at = b * ldy + rowBase + i;
                y[at] = accumulate ? y[at] + s : s;
            }
        }
    }

    /**
     * The sum, in order, of one sequential fused-multiply-add chain per 32-element block (the arithmetic of the
     * packed vector kernels, {@link PanelKernels}, which give the same bits).
     */
    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0;
        for (int i0 = 0; i0 < n; i0 += 32) {
            float blk = 0;
            for (int i = i0; i < Math.min(n, i0 + 32); i++) blk = Math.fma(a[aOff + i], b[bOff + i], blk);
            s += blk;
        }
        return s;
    }

    /**
     * Q8_0 row {@code r} · x: per 32-column block, the chain of {@code int8 x activation}, then
     * {@code acc = fma(scale, chain, acc)} (the scale applied once per block, as in {@link PanelKernels}).
     */
    static float dotQ8(WeightMatrix w, int r, float[] x, int xOff) {
        MemorySegment seg = w.data();
        long base = r * w.rowBytes();
        float acc = 0;
        for (int b = 0; b < w.cols() / 32; b++) {
            long bo = base + b * 34L;
            float s = 0;
            for (int j = 0; j < 32; j++) s = Math.fma(seg.get(ValueLayout.JAVA_BYTE, bo + 2 + j), x[xOff + b * 32 + j], s);
            acc = Math.fma(Float.float16ToFloat(seg.get(SHORT_LE, bo)), s, acc);
        }
        return acc;
    }

    @Override
    public void rmsnorm(float[] x, int xOff, float[] weight, float[] out, int outOff, int n, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += x[xOff + i] * x[xOff + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[outOff + i] = x[xOff + i] * scale * weight[i];
    }

    @Override
    public void siluMul(float[] gate, float[] up, int off, int n) {
        for (int i = off; i < off + n; i++) gate[i] = silu(gate[i]) * up[i];
    }

    static float silu(float g) {
        return (float) (g / (1.0 + Math.exp(-g)));
    }

    @Override
    public void attentionScores(float[] q, int qOff, MemorySegment keys, long[] blocks, int blockSize, int count,
                                int headDim, boolean f16, float scale, float[] out) {
        for (int i = 0; i < count; i++) {
            // element d of key i: (d * blockSize + i % blockSize) elements into its block, read as kv's element
            long o = blocks[i / blockSize] + (i % blockSize) * (f16 ? 2L : 4L);
            float s = 0;
            for (int d = 0; d < headDim; d++) s = Math.fma(q[qOff + d], kv(keys, o, d * blockSize, f16), s);
            out[i] = s * scale;
        }
    }

    @Override
    public void attentionValues(float[] weights, int wOff, int wStride, int heads, MemorySegment values,
                                long[] offsets, int count, int headDim, boolean f16, float[] out, int outOff) {
        for (int h = 0; h < heads; h++) {
            int w = wOff + h * wStride, o = outOff + h * headDim;
            for (int d = 0; d < headDim; d++) {
                float s = 0;
                for (int i = 0; i < count; i++) s = Math.fma(weights[w + i], kv(values, offsets[i], d, f16), s);
                out[o + d] = s;
            }
        }
    }

    @Override
    public void decodeRows(MemorySegment kv, long[] offsets, int count, int headDim, boolean f16, float[] dst,
                           int dstOff) {
        for (int i = 0; i < count; i++) {
            for (int d = 0; d < headDim; d++) dst[dstOff + i * headDim + d] = kv(kv, offsets[i], d, f16);
        }
    }

    private static float kv(MemorySegment seg, long off, int d, boolean f16) {
        return f16 ? Float.float16ToFloat(seg.get(SHORT_LE, off + 2L * d)) : seg.get(FLOAT_LE, off + 4L * d);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) max = Math.max(max, x[i]);
        double sum = 0;
        for (int i = off; i < off + n; i++) {
            float e = (float) Math.exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = off; i < off + n; i++) x[i] *= inv;
    }
}
