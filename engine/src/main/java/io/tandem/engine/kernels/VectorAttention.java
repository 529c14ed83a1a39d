package io.tandem.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

import static io.tandem.engine.kernels.WeightMatrix.FLOAT_LE;

/**
 * The Vector API attention kernels behind {@link VectorKernels}' {@code attentionScores}, {@code attentionValues}
 * and {@code decodeRows}.
 *
 * <p>Numerics, fixed per query whatever else is computed with it: a score is the sum, in {@link VectorKernels#sum}'s
 * order, of {@code L} lane accumulators, lane {@code j} being the FMA chain over {@code c = 0, L, 2L, ..} of
 * {@code q[c + j] * k[c + j]}; an output value is one FMA chain over the keys in order. The K arenas hold each block's
 * keys element-major ({@code KvLayout}): one vector load gives element {@code d} of {@code L} keys, so the lane
 * accumulators of {@code L} keys are vectors and the lane sums are vertical additions, no shuffles. Query heads that
 * share a KV head are scored up to three at a time, sharing the key loads, and take their weighted sums together,
 * sharing the value loads. The kernels for one, two and three heads are written out apiece: a width passed in would
 * branch inside their inner loops, and a helper that takes or returns a vector boxes it where C2 does not inline it.
 *
 * <p>F16 keys and values are read in place, each half widened in registers ({@link #halves}): it reads as
 * {@code 2^-112} times its value, and the query (or the weights) are multiplied by {@code 2^112} instead, so every
 * product, and so every score and output, has the bits of the F32 path on the widened values. That holds for finite
 * halves and a query (weights) below {@code 2^16} in magnitude; a call that holds an infinity or a NaN, or a larger
 * query, takes an exact path instead (keys one at a time, values widened to an array). It replaced a widened copy per
 * task; F32 stays faster: attention here is bound by its arithmetic, not by the bytes it reads (docs/BENCHMARKS.md).
 */
final class VectorAttention {
    private static final VectorSpecies<Float> F = VectorKernels.floatSpecies();
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** L halves: one element of L keys in a block, or L elements of a value row. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** The widest halves vector, for the finiteness scans. */
    private static final VectorSpecies<Short> WIDE = ShortVector.SPECIES_PREFERRED;

    /**
     * Per-thread scratch of the score kernels (lane sums on their way out of registers). Allocated per call, these
     * small arrays were, after the logits, most of what the engine allocated while serving (about 3 GB in a
     * three-minute serving run), and so most of its young collections.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        /** Three query rows' level-one sums: {@code L / 2} vectors each. */
        final float[] tree = new float[3 * L / 2 * L];
        /** A last, partial chunk of keys' scores. */
        final float[] last = new float[L];
        /** {@link #laneByLane}'s lane accumulators. */
        final float[] lanes = new float[L];
        /** Queries or weights times {@code 2^112}, for F16 keys and values read in place. */
        float[] scaled = new float[0];
        /** Values widened to floats, where F16 values cannot be read in place; and their offsets. */
        float[] widened = new float[0];
        long[] widenedRows = new long[0];

        float[] scaled(int n) {
            if (scaled.length < n) scaled = new float[Math.max(n, 2 * scaled.length)];
            return scaled;
        }
    }

    private VectorAttention() {
    }

    // ---- scores of keys in place ----------------------------------------------------------------------------------

    static void scores(float[] q, int qOff, MemorySegment keys, long[] blocks, int blockSize, int count, int headDim,
                       boolean f16, float scale, float[] out, int outOff) {
        groupScores(q, qOff, 1, keys, blocks, blockSize, count, headDim, f16, scale, out, outOff, 0);
    }

    /**
     * {@link #scores} of {@code heads} query heads that share a KV head, head {@code h}'s into
     * {@code out[h * outStride ..]}: three at a time sharing the key loads, then a tile of the one or two left.
     */
    static void groupScores(float[] q, int qOff, int heads, MemorySegment keys, long[] blocks, int blockSize,
                            int count, int headDim, boolean f16, float scale, float[] out, int outStride) {
        groupScores(q, qOff, heads, keys, blocks, blockSize, count, headDim, f16, scale, out, 0, outStride);
    }

    private static void groupScores(float[] q, int qOff, int heads, MemorySegment keys, long[] blocks, int blockSize,
                                    int count, int headDim, boolean f16, float scale, float[] out, int outOff,
                                    int outStride) {
        boolean inLanes = blockSize % L == 0 && headDim % L == 0;
        int n = heads * headDim;
        if (f16 && inLanes && PanelKernels.belowF16Scale(q, qOff, n)
                && finiteKeys(keys, blocks, blockSize, count, headDim)) {
            float[] scaled = SCRATCH.get().scaled(n);
            for (int i = 0; i < n; i++) scaled[i] = q[qOff + i] * PanelKernels.TWO_112;
            q = scaled;
            qOff = 0;
        } else if (f16 || !inLanes) {
            for (int h = 0; h < heads; h++) {
                laneByLane(q, qOff + h * headDim, keys, blocks, blockSize, count, headDim, f16, scale, out,
                        outOff + h * outStride);
            }
            return;
        }
        for (int h = 0; h < heads; h += 3) {
            tile(q, qOff + h * headDim, Math.min(3, heads - h), keys, blocks, blockSize, count, headDim, f16, scale,
                    out, outOff + h * outStride, outStride);
        }
    }

    /** Whether the key blocks holding positions {@code [0, count)} hold only finite halves. */
    private static boolean finiteKeys(MemorySegment keys, long[] blocks, int blockSize, int count, int headDim) {
        boolean finite = true;
        long bytes = 2L * blockSize * headDim;
        for (int b = 0; b * blockSize < count; b++) finite &= finiteHalves(keys, blocks[b], bytes);
        return finite;
    }

    /** Whether the halves at bytes {@code [from, from + bytes)} are finite: no exponent of all ones (infinity, NaN). */
    private static boolean finiteHalves(MemorySegment s, long from, long bytes) {
        ShortVector most = ShortVector.zero(WIDE);
        long i = 0;
        for (; i + WIDE.vectorByteSize() <= bytes; i += WIDE.vectorByteSize()) {
            most = most.max(ShortVector.fromMemorySegment(WIDE, s, from + i, LE).and((short) 0x7fff));
        }
        boolean finite = most.reduceLanes(VectorOperators.MAX) < 0x7c00;
        for (; i < bytes; i += 2) finite &= (s.get(WeightMatrix.SHORT_LE, from + i) & 0x7c00) != 0x7c00;
        return finite;
    }

    /**
     * L halves at byte {@code o} as floats, each {@code 2^-112} times the half's value (exact for every finite half,
     * subnormals included): sign-extended to 32 bits, shifted to a float's exponent and mantissa place, masked to
     * sign, exponent and mantissa. An infinity or NaN would read as a large finite number, so callers check first.
     */
    private static FloatVector halves(MemorySegment s, long o) {
        return ((IntVector) ShortVector.fromMemorySegment(H, s, o, LE).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats();
    }

    /** L keys' element at byte {@code o}: F32, or halves read as {@link #halves} (the query then times 2^112). */
    private static FloatVector key(MemorySegment s, long o, boolean f16) {
        return f16 ? halves(s, o) : FloatVector.fromMemorySegment(F, s, o, LE);
    }

    /**
     * Scores of {@code rows} (1 to 3) consecutive query rows from {@code q[q0 ..]}, row r's into
     * {@code out[o + r * outStride ..]}, L keys at a time. Each row's chains and sums are the same whatever the tile
     * width, so a head gets the same bits alone or in a group; a tile of one or two does not pay for three.
     */
    private static void tile(float[] q, int q0, int rows, MemorySegment keys, long[] blocks, int blockSize, int count,
                             int headDim, boolean f16, float scale, float[] out, int o, int outStride) {
        Scratch sc = SCRATCH.get();
        float[] w = sc.tree;
        boolean dim64 = L == 16 && headDim == 64;
        int q1 = q0 + headDim, q2 = q1 + headDim;
        long elem = f16 ? 2 : 4, stride = elem * blockSize;
        for (int i = 0; i < count; i += L) {
            long at = blocks[i / blockSize] + elem * (i % blockSize);
            if (rows == 3 && dim64) {
                pairs3Dim64(q, q0, q1, q2, keys, at, stride, f16, w);
            } else if (rows == 3) {
                for (int j = 0; j < L / 2; j++) pairs3(q, q0, q1, q2, keys, at, stride, f16, j, headDim, w);
            } else if (rows == 2 && dim64) {
                pairs2Dim64(q, q0, q1, keys, at, stride, f16, w);
            } else if (rows == 2) {
                for (int j = 0; j < L / 2; j++) pairs2(q, q0, q1, keys, at, stride, f16, j, headDim, w);
            } else if (dim64) {
                pairs1Dim64(q, q0, keys, at, stride, f16, w);
            } else {
                for (int j = 0; j < L / 2; j++) pairs1(q, q0, keys, at, stride, f16, j, headDim, w);
            }
            for (int r = 0; r < rows; r++) {
                int to = o + r * outStride + i;
                if (i + L <= count) {
                    finish(w, r * L, scale, out, to);
                } else { // the keys past count are not ours to write
                    finish(w, r * L, scale, sc.last, 0);
                    System.arraycopy(sc.last, 0, out, to, count - i);
                }
            }
        }
    }

    /**
     * Lane accumulators {@code j} and {@code j + L/2} of three queries for the L keys whose element 0 is at byte
     * {@code at} (element d at {@code at + d * stride}), added (the first level of the sum) into
     * {@code w[(3j + r) * L ..]} for query {@code r}.
     */
    private static void pairs3(float[] q, int q0, int q1, int q2, MemorySegment keys, long at, long stride,
                               boolean f16, int j, int headDim, float[] w) {
        int half = L / 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
        for (int c = 0; c < headDim; c += L) {
            FloatVector k = key(keys, at + (c + j) * stride, f16);
            FloatVector kk = key(keys, at + (c + j + half) * stride, f16);
            a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
            a1 = FloatVector.broadcast(F, q[q1 + c + j]).fma(k, a1);
            a2 = FloatVector.broadcast(F, q[q2 + c + j]).fma(k, a2);
            b0 = FloatVector.broadcast(F, q[q0 + c + j + half]).fma(kk, b0);
            b1 = FloatVector.broadcast(F, q[q1 + c + j + half]).fma(kk, b1);
            b2 = FloatVector.broadcast(F, q[q2 + c + j + half]).fma(kk, b2);
        }
        a0.add(b0).intoArray(w, 3 * j * L);
        a1.add(b1).intoArray(w, (3 * j + 1) * L);
        a2.add(b2).intoArray(w, (3 * j + 2) * L);
    }

    /**
     * {@link #pairs3} for every {@code j} of a head dimension of 64 with 16 lanes (the benchmark model's and many
     * small llamas'): the same chains, with their four steps written out. Called once per tile and block instead of
     * eight times with a four-step loop each (each call set up its loop and ran its bounds checks first), it scored
     * 1.45x faster (docs/BENCHMARKS.md). A bound passed in, even as a literal from the caller, did not get this code
     * from C2.
     */
    private static void pairs3Dim64(float[] q, int q0, int q1, int q2, MemorySegment keys, long at, long stride,
                                    boolean f16, float[] w) {
        FloatVector z = FloatVector.zero(F);
        for (int j = 0; j < 8; j++) {
            long k0 = at + j * stride;
            FloatVector k = key(keys, k0, f16);
            FloatVector kk = key(keys, k0 + 8 * stride, f16);
            FloatVector a0 = FloatVector.broadcast(F, q[q0 + j]).fma(k, z);
            FloatVector a1 = FloatVector.broadcast(F, q[q1 + j]).fma(k, z);
            FloatVector a2 = FloatVector.broadcast(F, q[q2 + j]).fma(k, z);
            FloatVector b0 = FloatVector.broadcast(F, q[q0 + j + 8]).fma(kk, z);
            FloatVector b1 = FloatVector.broadcast(F, q[q1 + j + 8]).fma(kk, z);
            FloatVector b2 = FloatVector.broadcast(F, q[q2 + j + 8]).fma(kk, z);
            for (int c = 16; c < 64; c += 16) { // a constant trip count: C2 writes the steps out
                k = key(keys, k0 + c * stride, f16);
                kk = key(keys, k0 + (c + 8) * stride, f16);
                a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
                a1 = FloatVector.broadcast(F, q[q1 + c + j]).fma(k, a1);
                a2 = FloatVector.broadcast(F, q[q2 + c + j]).fma(k, a2);
                b0 = FloatVector.broadcast(F, q[q0 + c + j + 8]).fma(kk, b0);
                b1 = FloatVector.broadcast(F, q[q1 + c + j + 8]).fma(kk, b1);
                b2 = FloatVector.broadcast(F, q[q2 + c + j + 8]).fma(kk, b2);
            }
            a0.add(b0).intoArray(w, 3 * j * 16);
            a1.add(b1).intoArray(w, (3 * j + 1) * 16);
            a2.add(b2).intoArray(w, (3 * j + 2) * 16);
        }
    }

    /** {@link #pairs3} of two queries (their sums at {@code w[3jL ..]} and {@code w[(3j + 1)L ..]}). */
    private static void pairs2(float[] q, int q0, int q1, MemorySegment keys, long at, long stride, boolean f16, int j,
                               int headDim, float[] w) {
        int half = L / 2;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0;
        for (int c = 0; c < headDim; c += L) {
            FloatVector k = key(keys, at + (c + j) * stride, f16);
            FloatVector kk = key(keys, at + (c + j + half) * stride, f16);
            a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
            a1 = FloatVector.broadcast(F, q[q1 + c + j]).fma(k, a1);
            b0 = FloatVector.broadcast(F, q[q0 + c + j + half]).fma(kk, b0);
            b1 = FloatVector.broadcast(F, q[q1 + c + j + half]).fma(kk, b1);
        }
        a0.add(b0).intoArray(w, 3 * j * L);
        a1.add(b1).intoArray(w, (3 * j + 1) * L);
    }

    /** {@link #pairs3} of one query (its sums at {@code w[3jL ..]}). */
    private static void pairs1(float[] q, int q0, MemorySegment keys, long at, long stride, boolean f16, int j,
                               int headDim, float[] w) {
        int half = L / 2;
        FloatVector a0 = FloatVector.zero(F), b0 = a0;
        for (int c = 0; c < headDim; c += L) {
            FloatVector k = key(keys, at + (c + j) * stride, f16);
            FloatVector kk = key(keys, at + (c + j + half) * stride, f16);
            a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
            b0 = FloatVector.broadcast(F, q[q0 + c + j + half]).fma(kk, b0);
        }
        a0.add(b0).intoArray(w, 3 * j * L);
    }

    /** {@link #pairs3Dim64} of two queries. */
    private static void pairs2Dim64(float[] q, int q0, int q1, MemorySegment keys, long at, long stride, boolean f16,
                                    float[] w) {
        FloatVector z = FloatVector.zero(F);
        for (int j = 0; j < 8; j++) {
            long k0 = at + j * stride;
            FloatVector k = key(keys, k0, f16);
            FloatVector kk = key(keys, k0 + 8 * stride, f16);
            FloatVector a0 = FloatVector.broadcast(F, q[q0 + j]).fma(k, z);
            FloatVector a1 = FloatVector.broadcast(F, q[q1 + j]).fma(k, z);
            FloatVector b0 = FloatVector.broadcast(F, q[q0 + j + 8]).fma(kk, z);
            FloatVector b1 = FloatVector.broadcast(F, q[q1 + j + 8]).fma(kk, z);
            for (int c = 16; c < 64; c += 16) {
                k = key(keys, k0 + c * stride, f16);
                kk = key(keys, k0 + (c + 8) * stride, f16);
                a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
                a1 = FloatVector.broadcast(F, q[q1 + c + j]).fma(k, a1);
                b0 = FloatVector.broadcast(F, q[q0 + c + j + 8]).fma(kk, b0);
                b1 = FloatVector.broadcast(F, q[q1 + c + j + 8]).fma(kk, b1);
            }
            a0.add(b0).intoArray(w, 3 * j * 16);
            a1.add(b1).intoArray(w, (3 * j + 1) * 16);
        }
    }

    /** {@link #pairs3Dim64} of one query. */
    private static void pairs1Dim64(float[] q, int q0, MemorySegment keys, long at, long stride, boolean f16,
                                    float[] w) {
        FloatVector z = FloatVector.zero(F);
        for (int j = 0; j < 8; j++) {
            long k0 = at + j * stride;
            FloatVector k = key(keys, k0, f16);
            FloatVector kk = key(keys, k0 + 8 * stride, f16);
            FloatVector a0 = FloatVector.broadcast(F, q[q0 + j]).fma(k, z);
            FloatVector b0 = FloatVector.broadcast(F, q[q0 + j + 8]).fma(kk, z);
            for (int c = 16; c < 64; c += 16) {
                k = key(keys, k0 + c * stride, f16);
                kk = key(keys, k0 + (c + 8) * stride, f16);
                a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
                b0 = FloatVector.broadcast(F, q[q0 + c + j + 8]).fma(kk, b0);
            }
            a0.add(b0).intoArray(w, 3 * j * 16);
        }
    }

    /**
     * The rest of the sum for query {@code r} (its level-one sums at {@code w[r + 3L m]}, m < L/2): the levels of
     * {@link VectorKernels#sum}, element {@code m} with {@code m + h} for h = L/4, .., 1, scaled, to {@code out[o ..]}.
     */
    private static void finish(float[] w, int r, float scale, float[] out, int o) {
        if (L == 16) {
            FloatVector w0 = FloatVector.fromArray(F, w, r), w1 = FloatVector.fromArray(F, w, r + 48);
            FloatVector w2 = FloatVector.fromArray(F, w, r + 96), w3 = FloatVector.fromArray(F, w, r + 144);
            FloatVector w4 = FloatVector.fromArray(F, w, r + 192), w5 = FloatVector.fromArray(F, w, r + 240);
            FloatVector w6 = FloatVector.fromArray(F, w, r + 288), w7 = FloatVector.fromArray(F, w, r + 336);
            FloatVector y0 = w0.add(w4).add(w2.add(w6)), y1 = w1.add(w5).add(w3.add(w7));
            y0.add(y1).mul(scale).intoArray(out, o);
        } else {
            // the same halving for any L, through the array
            for (int m = L / 2; m > 1; m /= 2) {
                for (int i = 0; i < m / 2; i++) {
                    FloatVector.fromArray(F, w, r + 3 * L * i).add(FloatVector.fromArray(F, w, r + 3 * L * (i + m / 2)))
                            .intoArray(w, r + 3 * L * i);
                }
            }
            FloatVector.fromArray(F, w, r).mul(scale).intoArray(out, o);
        }
    }

    /**
     * {@link #scores} one key at a time with the same additions (F16 keys, or blocks and heads that are not whole
     * vectors): the lane accumulators in an array, summed in {@link VectorKernels#sum}'s order, then the elements past
     * the last whole vector chained on.
     */
    private static void laneByLane(float[] q, int qOff, MemorySegment keys, long[] blocks, int blockSize, int count,
                                   int headDim, boolean f16, float scale, float[] out, int outOff) {
        float[] acc = SCRATCH.get().lanes;
        int n = headDim - headDim % L;
        long elem = f16 ? 2 : 4;
        for (int i = 0; i < count; i++) {
            long at = blocks[i / blockSize] + (i % blockSize) * elem, stride = blockSize * elem;
            Arrays.fill(acc, 0f);
            for (int c = 0; c < n; c += L) {
                for (int j = 0; j < L; j++) acc[j] = Math.fma(q[qOff + c + j], element(keys, at + (c + j) * stride, f16), acc[j]);
            }
            for (int h = L / 2; h >= 1; h /= 2) {
                for (int j = 0; j < h; j++) acc[j] += acc[j + h];
            }
            float s = acc[0];
            for (int d = n; d < headDim; d++) s = Math.fma(q[qOff + d], element(keys, at + d * stride, f16), s);
            out[outOff + i] = s * scale;
        }
    }

    /** The F32 or F16 element of a K or V arena at byte {@code o}. */
    private static float element(MemorySegment seg, long o, boolean f16) {
        return f16 ? Float.float16ToFloat(seg.get(WeightMatrix.SHORT_LE, o)) : seg.get(FLOAT_LE, o);
    }

    // ---- scores against staged keys ------------------------------------------------------------------------------
    //
    // Staged layout: blocks of 16 keys, block b at [b * 16 * headDim ..), element d of its key k at [d * 16 + k]: the
    // K arenas' own block layout with 16 positions per block, copied to an array for many query rows to read
    // (tile's chains and sums, on an array).

    static boolean stages(int headDim) {
        return L == 16 && headDim % L == 0;
    }

    static void stageKeys(MemorySegment seg, long[] blocks, int blockSize, int count, int headDim, boolean f16,
                          float[] dst, int dstOff) {
        int staged = (count + 15) / 16;
        Arrays.fill(dst, dstOff + (count / 16) * 16 * headDim, dstOff + staged * 16 * headDim, 0f);
        if (blockSize == 16 && !f16) { // the arena's block is the staged block
            for (int b = 0; b < count / 16; b++) MemorySegment.copy(seg, FLOAT_LE, blocks[b], dst, dstOff + b * 16 * headDim, 16 * headDim);
            if (count % 16 == 0) return;
        }
        long elem = f16 ? 2 : 4;
        int from = blockSize == 16 && !f16 ? count / 16 * 16 : 0;
        for (int p = from; p < count; p++) {
            long at = blocks[p / blockSize] + (p % blockSize) * elem;
            int base = dstOff + (p / 16) * 16 * headDim + p % 16;
            for (int d = 0; d < headDim; d++) dst[base + d * 16] = element(seg, at + d * blockSize * elem, f16);
        }
    }

    static void scoresStaged(float[] q, int[] qOff, int[] counts, int rows, float[] keys, int keysOff, int headDim,
                             float scale, float[] out, int outOff, int outStride) {
        float[] w = SCRATCH.get().tree;
        int tiles = (rows + 2) / 3;
        int most = 0;
        for (int r = 0; r < rows; r++) most = Math.max(most, counts[r]);
        // key blocks outermost: a block (16 keys) stays in L1 while every row tile reads it
        for (int b = 0; b * 16 < most; b++) {
            int kb = keysOff + b * 16 * headDim;
            for (int t = 0; t < tiles; t++) {
                int r0 = 3 * t, r1 = Math.min(r0 + 1, rows - 1), r2 = Math.min(r0 + 2, rows - 1);
                if (b * 16 >= Math.max(counts[r0], Math.max(counts[r1], counts[r2]))) continue;
                if (headDim == 64) {
                    pairs3Dim64(q, qOff[r0], qOff[r1], qOff[r2], keys, kb, w);
                } else {
                    for (int j = 0; j < 8; j++) pairs3(q, qOff[r0], qOff[r1], qOff[r2], keys, kb, j, headDim, w);
                }
                finish(w, 0, scale, out, outOff + r0 * outStride + b * 16);
                finish(w, 16, scale, out, outOff + r1 * outStride + b * 16);
                finish(w, 32, scale, out, outOff + r2 * outStride + b * 16);
            }
        }
    }

    /**
     * Accumulator lanes {@code j} and {@code j + 8} of three queries for the 16 keys of a staged block, added (the
     * first level of the tree) into {@code w[(3j + r) * 16 ..]} for query {@code r}.
     */
    private static void pairs3(float[] q, int q0, int q1, int q2, float[] keys, int kb, int j, int headDim,
                               float[] w) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
        for (int c = 0; c < headDim; c += 16) {
            FloatVector k = FloatVector.fromArray(F, keys, kb + (c + j) * 16);
            FloatVector kk = FloatVector.fromArray(F, keys, kb + (c + j + 8) * 16);
            a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
            a1 = FloatVector.broadcast(F, q[q1 + c + j]).fma(k, a1);
            a2 = FloatVector.broadcast(F, q[q2 + c + j]).fma(k, a2);
            b0 = FloatVector.broadcast(F, q[q0 + c + j + 8]).fma(kk, b0);
            b1 = FloatVector.broadcast(F, q[q1 + c + j + 8]).fma(kk, b1);
            b2 = FloatVector.broadcast(F, q[q2 + c + j + 8]).fma(kk, b2);
        }
        a0.add(b0).intoArray(w, 3 * j * 16);
        a1.add(b1).intoArray(w, (3 * j + 1) * 16);
        a2.add(b2).intoArray(w, (3 * j + 2) * 16);
    }

    /**
     * {@link #pairs3} for every {@code j} of a head dimension of 64 (the benchmark model's and many small llamas'):
     * the same chains, with their four steps written out. Called once per tile and block instead of eight times with
     * a four-step loop each (each call set up its loop and ran its bounds checks first), it scored 1.45x faster
     * (docs/BENCHMARKS.md). A bound passed in, even as a literal from the caller, did not get this code from C2.
     * The twin of the in-place {@code pairs3Dim64} on a memory segment: the staged array read through a heap segment
     * by that one took prefill attention from 11.4 % to 14.1 % of pp512's time.
     */
    private static void pairs3Dim64(float[] q, int q0, int q1, int q2, float[] keys, int kb, float[] w) {
        FloatVector z = FloatVector.zero(F);
        for (int j = 0; j < 8; j++) {
            int k0 = kb + j * 16;
            FloatVector k = FloatVector.fromArray(F, keys, k0), kk = FloatVector.fromArray(F, keys, k0 + 8 * 16);
            FloatVector a0 = FloatVector.broadcast(F, q[q0 + j]).fma(k, z);
            FloatVector a1 = FloatVector.broadcast(F, q[q1 + j]).fma(k, z);
            FloatVector a2 = FloatVector.broadcast(F, q[q2 + j]).fma(k, z);
            FloatVector b0 = FloatVector.broadcast(F, q[q0 + j + 8]).fma(kk, z);
            FloatVector b1 = FloatVector.broadcast(F, q[q1 + j + 8]).fma(kk, z);
            FloatVector b2 = FloatVector.broadcast(F, q[q2 + j + 8]).fma(kk, z);
            for (int c = 16; c < 64; c += 16) { // a constant trip count: C2 writes the steps out
                k = FloatVector.fromArray(F, keys, k0 + c * 16);
                kk = FloatVector.fromArray(F, keys, k0 + (c + 8) * 16);
                a0 = FloatVector.broadcast(F, q[q0 + c + j]).fma(k, a0);
                a1 = FloatVector.broadcast(F, q[q1 + c + j]).fma(k, a1);
                a2 = FloatVector.broadcast(F, q[q2 + c + j]).fma(k, a2);
                b0 = FloatVector.broadcast(F, q[q0 + c + j + 8]).fma(kk, b0);
                b1 = FloatVector.broadcast(F, q[q1 + c + j + 8]).fma(kk, b1);
                b2 = FloatVector.broadcast(F, q[q2 + c + j + 8]).fma(kk, b2);
            }
            a0.add(b0).intoArray(w, 3 * j * 16);
            a1.add(b1).intoArray(w, (3 * j + 1) * 16);
            a2.add(b2).intoArray(w, (3 * j + 2) * 16);
        }
    }


    // ---- weighted sums of staged values (array loads at a fixed stride; the FMA chains of values3 and values1) -----

    static void valuesStaged(float[] w, int wOff, int wStride, int heads, float[] v, int vOff, int count,
                             int headDim, float[] out, int outOff) {
        int h = 0;
        if (headDim % (4 * L) == 0) {
            for (; h + 3 <= heads; h += 3) {
                for (int d = 0; d < headDim; d += 4 * L) {
                    stagedValues3(w, wOff + h * wStride, wStride, v, vOff, count, d, headDim, out,
                            outOff + h * headDim);
                }
            }
        }
        for (; h < heads; h++) {
            for (int d = 0; d < headDim; d += L) {
                FloatVector a = FloatVector.zero(F);
                int wo = wOff + h * wStride;
                for (int i = 0; i < count; i++) {
                    a = FloatVector.fromArray(F, v, vOff + i * headDim + d).fma(FloatVector.broadcast(F, w[wo + i]), a);
                }
                a.intoArray(out, outOff + h * headDim + d);
            }
        }
    }

    /**
     * {@link #values3} on staged values: the same register tile and chains, loading from an array at a fixed stride
     * instead of from KV memory at per-row offsets. A shared body would have to pass vectors through a call C2 may not
     * inline, and such vectors are boxed on the heap.
     */
    private static void stagedValues3(float[] w, int wOff, int wStride, float[] v, int vOff, int count, int d,
                                      int headDim, float[] out, int outOff) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        int w1 = wOff + wStride, w2 = wOff + 2 * wStride;
        for (int i = 0; i < count; i++) {
            int o = vOff + i * headDim + d;
            FloatVector v0 = FloatVector.fromArray(F, v, o), v1 = FloatVector.fromArray(F, v, o + L);
            FloatVector v2 = FloatVector.fromArray(F, v, o + 2 * L), v3 = FloatVector.fromArray(F, v, o + 3 * L);
            FloatVector x = FloatVector.broadcast(F, w[wOff + i]);
            a00 = v0.fma(x, a00);
            a01 = v1.fma(x, a01);
            a02 = v2.fma(x, a02);
            a03 = v3.fma(x, a03);
            x = FloatVector.broadcast(F, w[w1 + i]);
            a10 = v0.fma(x, a10);
            a11 = v1.fma(x, a11);
            a12 = v2.fma(x, a12);
            a13 = v3.fma(x, a13);
            x = FloatVector.broadcast(F, w[w2 + i]);
            a20 = v0.fma(x, a20);
            a21 = v1.fma(x, a21);
            a22 = v2.fma(x, a22);
            a23 = v3.fma(x, a23);
        }
        int o0 = outOff + d, o1 = o0 + headDim, o2 = o1 + headDim;
        a00.intoArray(out, o0);
        a01.intoArray(out, o0 + L);
        a02.intoArray(out, o0 + 2 * L);
        a03.intoArray(out, o0 + 3 * L);
        a10.intoArray(out, o1);
        a11.intoArray(out, o1 + L);
        a12.intoArray(out, o1 + 2 * L);
        a13.intoArray(out, o1 + 3 * L);
        a20.intoArray(out, o2);
        a21.intoArray(out, o2 + L);
        a22.intoArray(out, o2 + 2 * L);
        a23.intoArray(out, o2 + 3 * L);
    }

    // ---- weighted sums of values ----------------------------------------------------------------------------------

    static void values(float[] w, int wOff, int wStride, int heads, MemorySegment values, long[] offsets, int count,
                       int headDim, boolean f16, float[] out, int outOff) {
        if (f16) {
            Scratch sc = SCRATCH.get();
            boolean below = true;
            for (int h = 0; h < heads; h++) below &= PanelKernels.belowF16Scale(w, wOff + h * wStride, count);
            if (headDim % L == 0 && below && finiteRows(values, offsets, count, headDim)) {
                float[] scaled = sc.scaled(heads * count);
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < count; i++) {
                        scaled[h * count + i] = w[wOff + h * wStride + i] * PanelKernels.TWO_112;
                    }
                }
                w = scaled;
                wOff = 0;
                wStride = count;
            } else { // exact: the rows widened to an array
                if (sc.widened.length < count * headDim) sc.widened = new float[count * headDim];
                if (sc.widenedRows.length < count) sc.widenedRows = new long[count];
                decodeRows(values, offsets, count, headDim, true, sc.widened, 0);
                for (int i = 0; i < count; i++) sc.widenedRows[i] = 4L * headDim * i;
                values = MemorySegment.ofArray(sc.widened);
                offsets = sc.widenedRows;
                f16 = false;
            }
        }
        int n4 = headDim - headDim % (4 * L);
        for (int h = 0; h < heads; ) {
            int tile = Math.min(3, heads - h); // three heads per value load, then the one or two left
            int from = tile == 1 ? 0 : n4;
            for (int d = 0; d < from; d += 4 * L) {
                if (tile == 3) {
                    values3(w, wOff + h * wStride, wStride, values, offsets, count, d, f16, out, outOff + h * headDim, headDim);
                } else {
                    values2(w, wOff + h * wStride, wStride, values, offsets, count, d, f16, out, outOff + h * headDim, headDim);
                }
            }
            for (int k = h; k < h + tile; k++) { // what is left of each head, one at a time
                values1(w, wOff + k * wStride, values, offsets, count, from, headDim, f16, out, outOff + k * headDim);
            }
            h += tile;
        }
    }

    /** {@link #values3} of two heads (a group of 2, or the two a group leaves after its threes). */
    private static void values2(float[] w, int wOff, int wStride, MemorySegment values, long[] offsets, int count,
                                int d, boolean f16, float[] out, int outOff, int headDim) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        int w1 = wOff + wStride;
        for (int i = 0; i < count; i++) {
            long o = offsets[i];
            FloatVector v0 = kv(values, o, d, f16), v1 = kv(values, o, d + L, f16);
            FloatVector v2 = kv(values, o, d + 2 * L, f16), v3 = kv(values, o, d + 3 * L, f16);
            FloatVector x = FloatVector.broadcast(F, w[wOff + i]);
            a00 = v0.fma(x, a00);
            a01 = v1.fma(x, a01);
            a02 = v2.fma(x, a02);
            a03 = v3.fma(x, a03);
            x = FloatVector.broadcast(F, w[w1 + i]);
            a10 = v0.fma(x, a10);
            a11 = v1.fma(x, a11);
            a12 = v2.fma(x, a12);
            a13 = v3.fma(x, a13);
        }
        int o0 = outOff + d, o1 = o0 + headDim;
        a00.intoArray(out, o0);
        a01.intoArray(out, o0 + L);
        a02.intoArray(out, o0 + 2 * L);
        a03.intoArray(out, o0 + 3 * L);
        a10.intoArray(out, o1);
        a11.intoArray(out, o1 + L);
        a12.intoArray(out, o1 + 2 * L);
        a13.intoArray(out, o1 + 3 * L);
    }

    /** Elements {@code [d, d + 4L)} of three heads' outputs, sharing each value load between the three. */
    private static void values3(float[] w, int wOff, int wStride, MemorySegment values, long[] offsets, int count,
                                int d, boolean f16, float[] out, int outOff, int headDim) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        int w1 = wOff + wStride, w2 = wOff + 2 * wStride;
        for (int i = 0; i < count; i++) {
            long o = offsets[i];
            FloatVector v0 = kv(values, o, d, f16), v1 = kv(values, o, d + L, f16);
            FloatVector v2 = kv(values, o, d + 2 * L, f16), v3 = kv(values, o, d + 3 * L, f16);
            FloatVector x = FloatVector.broadcast(F, w[wOff + i]);
            a00 = v0.fma(x, a00);
            a01 = v1.fma(x, a01);
            a02 = v2.fma(x, a02);
            a03 = v3.fma(x, a03);
            x = FloatVector.broadcast(F, w[w1 + i]);
            a10 = v0.fma(x, a10);
            a11 = v1.fma(x, a11);
            a12 = v2.fma(x, a12);
            a13 = v3.fma(x, a13);
            x = FloatVector.broadcast(F, w[w2 + i]);
            a20 = v0.fma(x, a20);
            a21 = v1.fma(x, a21);
            a22 = v2.fma(x, a22);
            a23 = v3.fma(x, a23);
        }
        int o0 = outOff + d, o1 = o0 + headDim, o2 = o1 + headDim;
        a00.intoArray(out, o0);
        a01.intoArray(out, o0 + L);
        a02.intoArray(out, o0 + 2 * L);
        a03.intoArray(out, o0 + 3 * L);
        a10.intoArray(out, o1);
        a11.intoArray(out, o1 + L);
        a12.intoArray(out, o1 + 2 * L);
        a13.intoArray(out, o1 + 3 * L);
        a20.intoArray(out, o2);
        a21.intoArray(out, o2 + L);
        a22.intoArray(out, o2 + 2 * L);
        a23.intoArray(out, o2 + 3 * L);
    }

    /** Elements {@code [from, headDim)} of one head's output: up to four lane chunks at once (independent chains). */
    private static void values1(float[] weights, int wOff, MemorySegment values, long[] offsets, int count, int from,
                                int headDim, boolean f16, float[] out, int outOff) {
        int n = headDim - headDim % L;
        int d = from;
        for (; d + 4 * L <= n; d += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < count; i++) {
                long o = offsets[i];
                FloatVector w = FloatVector.broadcast(F, weights[wOff + i]);
                a0 = kv(values, o, d, f16).fma(w, a0);
                a1 = kv(values, o, d + L, f16).fma(w, a1);
                a2 = kv(values, o, d + 2 * L, f16).fma(w, a2);
                a3 = kv(values, o, d + 3 * L, f16).fma(w, a3);
            }
            a0.intoArray(out, outOff + d);
            a1.intoArray(out, outOff + d + L);
            a2.intoArray(out, outOff + d + 2 * L);
            a3.intoArray(out, outOff + d + 3 * L);
        }
        for (; d + 2 * L <= n; d += 2 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            for (int i = 0; i < count; i++) {
                FloatVector w = FloatVector.broadcast(F, weights[wOff + i]);
                a0 = kv(values, offsets[i], d, f16).fma(w, a0);
                a1 = kv(values, offsets[i], d + L, f16).fma(w, a1);
            }
            a0.intoArray(out, outOff + d);
            a1.intoArray(out, outOff + d + L);
        }
        for (; d < n; d += L) {
            FloatVector a0 = FloatVector.zero(F);
            for (int i = 0; i < count; i++) {
                a0 = kv(values, offsets[i], d, f16).fma(FloatVector.broadcast(F, weights[wOff + i]), a0);
            }
            a0.intoArray(out, outOff + d);
        }
        for (; d < headDim; d++) {
            float s = 0;
            for (int i = 0; i < count; i++) s = Math.fma(weights[wOff + i], kvScalar(values, offsets[i], d, f16), s);
            out[outOff + d] = s;
        }
    }

    // ---- rows -----------------------------------------------------------------------------------------------------

    static void decodeRows(MemorySegment seg, long[] offsets, int count, int headDim, boolean f16, float[] dst,
                           int dstOff) {
        for (int i = 0; i < count; i++) decodeRow(seg, offsets[i], headDim, f16, dst, dstOff + i * headDim);
    }

    /** The K or V row at byte offset {@code o} as floats, into {@code dst[dstOff ..)}. */
    private static void decodeRow(MemorySegment seg, long o, int headDim, boolean f16, float[] dst, int dstOff) {
        if (f16) {
            // a plain loop: C2 vectorizes it (vcvtph2ps); an exact Vector API conversion here was not inlined, and
            // every vector it returned was allocated (199 KB per decode token and layer)
            for (int d = 0; d < headDim; d++) dst[dstOff + d] = Float.float16ToFloat(seg.get(WeightMatrix.SHORT_LE, o + 2L * d));
        } else {
            MemorySegment.copy(seg, FLOAT_LE, o, dst, dstOff, headDim);
        }
    }

    /** Whether the value rows at {@code offsets[0 .. count)} hold only finite halves. */
    private static boolean finiteRows(MemorySegment seg, long[] offsets, int count, int headDim) {
        boolean finite = true;
        for (int i = 0; i < count; i++) finite &= finiteHalves(seg, offsets[i], 2L * headDim);
        return finite;
    }

    /** L values of a V row at byte offset {@code o}, element {@code d}: F32, or halves read as {@link #halves}. */
    private static FloatVector kv(MemorySegment seg, long o, int d, boolean f16) {
        return f16 ? halves(seg, o + 2L * d) : FloatVector.fromMemorySegment(F, seg, o + 4L * d, LE);
    }

    /** Element {@code d} of a V row. */
    private static float kvScalar(MemorySegment seg, long o, int d, boolean f16) {
        return element(seg, o + (f16 ? 2L : 4L) * d, f16);
    }
}
