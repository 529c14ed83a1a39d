package io.tandem.engine.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The numeric primitives of the forward pass, single-threaded ({@link MatMul} and the forward pass split work
 * across a {@link ComputePool}). Two implementations: {@link ScalarKernels} and the Vector API one.
 *
 * <p>Every result for one output value depends only on its own inputs, never on which other rows or batch items
 * are computed in the same call, so a sequence gives bit-identical results alone or in a batch. In particular
 * {@link #matvec} and {@link #gemm} over {@link #dequantize}d rows agree bit for bit.
 */
public interface Kernels {

    /** A short name for logs and benchmarks ("vector-512", "scalar"). */
    String name();

    /**
     * One activation vector: for every row {@code r} in {@code [r0, r1)},
     * {@code y[yOff + r] = (accumulate ? y[yOff + r] : 0) + W[r] · x[xOff .. xOff + cols)}.
     */
    void matvec(WeightMatrix w, int r0, int r1, float[] x, int xOff, float[] y, int yOff, boolean accumulate);

    /** Decodes rows {@code [r0, r1)} to {@code dst[dOff + (r - r0) * cols + c]}. */
    void dequantize(WeightMatrix w, int r0, int r1, float[] dst, int dOff);

    /**
     * A batch against a tile of decoded rows: {@code tile} holds {@code rows} rows of {@code cols} values that are
     * weight rows {@code rowBase ..}; {@code x} holds batch items of {@code cols} values each. For items {@code b}
     * in {@code [b0, b1)} and tile rows {@code i}:
     * {@code y[b * ldy + rowBase + i] = (accumulate ? old : 0) + tile[i] · x[b]}.
     */
    void gemm(float[] tile, int rows, int cols, int rowBase, float[] x, int b0, int b1, float[] y, int ldy,
              boolean accumulate);

    /**
     * The form of {@code w} these kernels multiply fastest: its {@link PanelMatrix} when they have a packed layout for
     * its type (made once, at model load: it copies the weights), else {@code w} itself.
     */
    default LinearWeight pack(WeightMatrix w) {
        return w;
    }

    /** Floats of per-thread scratch the {@link PanelMatrix} methods need. */
    default int panelScratch() {
        return 0;
    }

    /**
     * As {@link #matvec(WeightMatrix, int, int, float[], int, float[], int, boolean)} for the rows of panels
     * {@code [p0, p1)} of packed weights (from {@link #pack}). Each output is the same blocked FMA chain along the
     * columns as in {@link #gemm(PanelMatrix, float[], int, int, float[], int, int, float[], int, boolean, float[])}.
     */
    default void matvec(PanelMatrix w, int p0, int p1, float[] x, int xOff, float[] y, int yOff, boolean accumulate,
                        float[] scratch) {
        throw new UnsupportedOperationException(name() + " kernels have no packed weights");
    }

    /**
     * Decodes panel {@code p} to floats for {@link #gemm(PanelMatrix, float[], int, int, float[], int, int, float[],
     * int, boolean, float[])}, {@code tile[tOff + c * lanes + lane]}: the weights, or for types with block scales
     * (Q8_0) the values before scaling.
     */
    default void decode(PanelMatrix w, int p, float[] tile, int tOff) {
        throw new UnsupportedOperationException(name() + " kernels have no packed weights");
    }

    /**
     * A batch against {@code tp} panels decoded by {@link #decode} into {@code tile} (panel {@code i} at
     * {@code i * cols * lanes}), the first being panel {@code p}: for items {@code b} in {@code [b0, b1)} and each of
     * their rows {@code r}, {@code y[b * ldy + r] = (accumulate ? old : 0) + W[r] · x[b * cols ..]}.
     */
    default void gemm(PanelMatrix w, float[] tile, int tp, int p, float[] x, int b0, int b1, float[] y, int ldy,
                      boolean accumulate, float[] scratch) {
        throw new UnsupportedOperationException(name() + " kernels have no packed weights");
    }

    /**
     * Whether {@link #gemmInPlace} multiplies a batch of {@code n} items by {@code w} faster than {@link #decode} and
     * {@link #gemm} do.
     */
    default boolean gemmsInPlace(PanelMatrix w, int n) {
        return false;
    }

    /** As {@link #gemm} on panels {@code [p, p + tp)} of {@code w} read where they are, without a decoded tile. */
    default void gemmInPlace(PanelMatrix w, int tp, int p, float[] x, int b0, int b1, float[] y, int ldy,
                             boolean accumulate, float[] scratch) {
        throw new UnsupportedOperationException(name() + " kernels have no packed weights");
    }

    /** {@code out[outOff + i] = x[xOff + i] / sqrt(mean(x²) + eps) * weight[i]}; {@code out} may be {@code x}. */
    void rmsnorm(float[] x, int xOff, float[] weight, float[] out, int outOff, int n, float eps);

    /** In place, {@code gate[off + i] = silu(gate[off + i]) * up[off + i]} with {@code silu(g) = g / (1 + e^-g)}. */
    void siluMul(float[] gate, float[] up, int off, int n);

    /** In place softmax of {@code x[off .. off + n)}. */
    void softmax(float[] x, int off, int n);

    /**
     * Attention scores straight from KV memory: {@code out[i] = scale * q[qOff ..] · key_i} for {@code i < count},
     * with the keys in blocks of {@code blockSize} as the K arenas hold them ({@code KvLayout}): element {@code d} of
     * key {@code i} is the little-endian value (F32, or IEEE half when {@code f16}) at byte offset
     * {@code blocks[i / blockSize] + (d * blockSize + i % blockSize) * elementBytes} of {@code keys}.
     */
    void attentionScores(float[] q, int qOff, MemorySegment keys, long[] blocks, int blockSize, int count, int headDim,
                         boolean f16, float scale, float[] out);

    /**
     * {@link #attentionScores} for {@code heads} query heads that share a KV head, the queries at
     * {@code q[qOff + h * headDim ..]}: head {@code h}'s scores into {@code out[h * outStride ..]}, with the same bits.
     * An implementation may load each key once for all the heads.
     */
    default void groupAttentionScores(float[] q, int qOff, int heads, MemorySegment keys, long[] blocks, int blockSize,
                                      int count, int headDim, boolean f16, float scale, float[] out, int outStride) {
        // the last head first: each lands at out[0 ..] and moves to its row, head 0 staying in row 0
        for (int h = heads - 1; h >= 0; h--) {
            attentionScores(q, qOff + h * headDim, keys, blocks, blockSize, count, headDim, f16, scale, out);
            if (h > 0) System.arraycopy(out, 0, out, h * outStride, count);
        }
    }

    /**
     * Weighted sum of values straight from KV memory: {@code out[outOff + d] = Σ_i weights[i] * value_i[d]}, summed
     * in order of {@code i}, value {@code i} being at byte offset {@code offsets[i]} of {@code values}.
     */
    default void attentionValues(float[] weights, MemorySegment values, long[] offsets, int count, int headDim,
                                 boolean f16, float[] out, int outOff) {
        attentionValues(weights, 0, 0, 1, values, offsets, count, headDim, f16, out, outOff);
    }

    /**
     * The weighted sums of {@code heads} query heads reading the same values (the heads of one KV head group):
     * {@code out[outOff + h * headDim + d] = Σ_i weights[wOff + h * wStride + i] * value_i[d]} for {@code h < heads},
     * each summed in order of {@code i} exactly as {@link #attentionValues(float[], MemorySegment, long[], int, int,
     * boolean, float[], int)} would for that head alone.
     */
    void attentionValues(float[] weights, int wOff, int wStride, int heads, MemorySegment values, long[] offsets,
                         int count, int headDim, boolean f16, float[] out, int outOff);

    /**
     * Whether {@link #attentionScores} and {@link #attentionValues} read F16 keys and values as fast as a widened copy
     * of them (when not, a caller with many queries per KV head widens them once with {@link #decodeRows}).
     */
    default boolean readsF16InPlace() {
        return false;
    }

    /**
     * Rows of KV memory as floats: {@code dst[dstOff + i * headDim + d]} = element {@code d} of the row at byte offset
     * {@code offsets[i]} of {@code kv}, for {@code i < count} (exact: F32 copied, IEEE half widened).
     */
    void decodeRows(MemorySegment kv, long[] offsets, int count, int headDim, boolean f16, float[] dst, int dstOff);

    /** As {@link #decodeRows(MemorySegment, long[], int, int, boolean, float[], int)} to {@code dst[0 ..]}. */
    default void decodeRows(MemorySegment kv, long[] offsets, int count, int headDim, boolean f16, float[] dst) {
        decodeRows(kv, offsets, count, headDim, f16, dst, 0);
    }

    /** Keys per block of the staged layout: scores against staged keys are written in whole blocks. */
    int STAGED_BLOCK = 16;

    /**
     * Whether {@link #stageKeys} and {@link #attentionScoresStaged} exist for heads of {@code headDim}; when not,
     * attention reads its keys in place through {@link #attentionScores}.
     */
    default boolean stagesKeys(int headDim) {
        return false;
    }

    /**
     * Copies the keys {@code [0, count)} held in blocks as {@link #attentionScores} reads them (exact: F32 copied, IEEE
     * half widened) to {@code dst[dstOff ..]} in the layout {@link #attentionScoresStaged} reads, padded with zeros to
     * a whole number of {@link #STAGED_BLOCK} keys: {@code roundUp(count, STAGED_BLOCK) * headDim} floats.
     */
    default void stageKeys(MemorySegment keys, long[] blocks, int blockSize, int count, int headDim, boolean f16,
                           float[] dst, int dstOff) {
        throw new UnsupportedOperationException(name() + " does not stage keys");
    }

    /**
     * Scores of {@code rows} query rows against keys staged at {@code keys[keysOff ..]}: for {@code r < rows} and
     * {@code i < counts[r]}, {@code out[outOff + r * outStride + i]} gets exactly the bits {@link #attentionScores}
     * gives for the query at {@code q[qOff[r] ..]} and key {@code i}. Entries up to the next multiple of
     * {@link #STAGED_BLOCK} past {@code counts[r]} (at most the staged count rounded up) may be overwritten.
     */
    default void attentionScoresStaged(float[] q, int[] qOff, int[] counts, int rows, float[] keys, int keysOff,
                                       int headDim, float scale, float[] out, int outOff, int outStride) {
        throw new UnsupportedOperationException(name() + " does not stage keys");
    }

    /**
     * Rows of values staged in row order, value {@code i} at {@code values[valuesOff + i * headDim ..]} (as
     * {@link #decodeRows} writes them): the weighted sums of {@link #attentionValues(float[], int, int, int,
     * MemorySegment, long[], int, int, boolean, float[], int)}, with exactly its bits. Available when
     * {@link #stagesKeys} is.
     */
    default void attentionValuesStaged(float[] weights, int wOff, int wStride, int heads, float[] values,
                                       int valuesOff, int count, int headDim, float[] out, int outOff) {
        throw new UnsupportedOperationException(name() + " does not stage values");
    }

    /**
     * The kernels for a mode; AUTO picks the vector kernels when available. The first time a JVM creates kernels of
     * a backend, it logs which (INFO), or at WARN why the vector kernels are not used when AUTO falls back to scalar.
     */
    static Kernels create(KernelMode mode) {
        Kernels k = switch (mode) {
            case SCALAR -> new ScalarKernels();
            case VECTOR -> vector().orElseThrow(() -> new IllegalStateException(
                    "Vector API kernels unavailable: " + VectorSupport.unavailableReason()
                            + (VectorSupport.fix() == null ? "" : ". Fix: " + VectorSupport.fix())));
            case AUTO -> vector().orElseGet(ScalarKernels::new);
        };
        BackendLog.once(mode, describe(mode));
        return k;
    }

    /**
     * The backend {@link #create} gives for {@code mode} in this JVM, with the reason when it is scalar (for logs, the
     * {@code tandem_engine_kernels_info} metric and a worker's {@code /health}).
     *
     * @throws IllegalStateException for {@link KernelMode#VECTOR} when the vector kernels are unavailable
     */
    static KernelBackend describe(KernelMode mode) {
        return switch (mode) {
            case SCALAR -> new KernelBackend(KernelBackend.SCALAR, 1, "asked for (kernels=scalar)", null);
            case VECTOR, AUTO -> {
                if (VectorSupport.kernels() != null) yield new KernelBackend(KernelBackend.VECTOR, VectorSupport.lanes(), null, null);
                if (mode == KernelMode.VECTOR) {
                    throw new IllegalStateException("Vector API kernels unavailable: " + VectorSupport.unavailableReason());
                }
                yield new KernelBackend(KernelBackend.SCALAR, 1, VectorSupport.unavailableReason(), VectorSupport.fix());
            }
        };
    }

    /** The Vector API kernels, when the incubator module is loaded and the CPU's preferred species fits. */
    static Optional<Kernels> vector() {
        return Optional.ofNullable(VectorSupport.kernels());
    }
}
