package io.tandem.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

import static io.tandem.engine.kernels.WeightMatrix.FLOAT_LE;

/**
 * The Vector API attention kernels behind {@link VectorKernels}' {@code attentionScores}, {@code attentionValues}
 * and {@code decodeRows}.
 *
 * <p>Numerics, fixed per query whatever else is computed with it: a score is one accumulator vector of FMAs along the
 * head dimension whose lanes are summed in {@link VectorKernels#sum}'s order; an output value is one FMA chain over
 * the keys in order. Sixteen keys are scored at once and their sixteen lane sums done together by a transposing tree
 * ({@link #block16}) that adds the same pairs as {@code sum}, so the bits do not depend on how keys are grouped.
 * Several query heads sharing a KV head take their weighted sums together, sharing the value loads, and their scores
 * three at a time ({@link #scores3}), sharing the key loads.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> F = VectorKernels.floatSpecies();
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    // rotations by +s and -s lanes and masks of the odd groups of s lanes, for the transposing sum tree (L == 16)
    private static final VectorShuffle<Float> UP8 = rotation(8), UP4 = rotation(4), DOWN4 = rotation(L - 4),
            UP2 = rotation(2), DOWN2 = rotation(L - 2), UP1 = rotation(1), DOWN1 = rotation(L - 1);
    private static final VectorMask<Float> ODD8 = oddGroups(8), ODD4 = oddGroups(4), ODD2 = oddGroups(2),
            ODD1 = oddGroups(1);

    /**
     * Per-thread scratch of the score kernels (lane sums on their way out of registers). Allocated per call, these
     * small arrays were, after the logits, most of what the engine allocated while serving (about 3 GB in a
     * three-minute serving run), and so most of its young collections.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        final float[] acc = new float[4 * L];
        final float[] halves = new float[2 * L];
        final float[] halves3 = new float[6 * L];
        final float[] acc24 = new float[24 * L];
        final float[] tree = new float[3 * 8 * 16];
    }

    private VectorAttention() {
    }

    private static VectorShuffle<Float> rotation(int by) {
        return VectorShuffle.fromOp(F, i -> (i + by) % L);
    }

    private static VectorMask<Float> oddGroups(int s) {
        long bits = 0;
        for (int i = 0; i < L; i++) if ((i / s) % 2 == 1) bits |= 1L << i;
        return VectorMask.fromLong(F, bits);
    }

    // ---- scores ---------------------------------------------------------------------------------------------------

    static void scores(float[] q, int qOff, MemorySegment keys, long[] offsets, int count, int headDim, boolean f16,
                       float scale, float[] out, int outOff) {
        int i = 0;
        if (inBlocks(headDim, f16)) {
            float[] halves = SCRATCH.get().halves;
            for (; i + 16 <= count; i += 16) block16(q, qOff, keys, offsets, i, headDim, scale, out, outOff, halves);
        }
        byFour(q, qOff, keys, offsets, i, count, headDim, f16, scale, out, outOff);
    }

    /**
     * {@link #scores} of {@code heads} query heads that share a KV head, head {@code h}'s into
     * {@code out[h * outStride ..]}: three at a time sharing the key loads ({@link #scores3}) where keys go in blocks
     * of sixteen, the others one by one.
     */
    static void groupScores(float[] q, int qOff, int heads, MemorySegment keys, long[] offsets, int count, int headDim,
                            boolean f16, float scale, float[] out, int outStride) {
        int h = 0;
        if (inBlocks(headDim, f16)) {
            for (; h + 3 <= heads; h += 3) {
                scores3(q, qOff + h * headDim, keys, offsets, count, headDim, scale, out, h * outStride, outStride);
            }
        }
        for (; h < heads; h++) {
            scores(q, qOff + h * headDim, keys, offsets, count, headDim, f16, scale, out, h * outStride);
        }
    }

    /** Keys go sixteen at a time ({@link #block16}, {@link #scores3}): F32 keys, head_dim a multiple of 16 lanes. */
    private static boolean inBlocks(int headDim, boolean f16) {
        return L == 16 && headDim % L == 0 && !f16;
    }

    /**
     * The scores of three query heads that share a KV head (at {@code q[qOff]}, {@code q[qOff + headDim]} and
     * {@code q[qOff + 2 * headDim]}), head {@code h}'s into {@code out[outOff + h * outStride ..]}: each key is loaded
     * once for the three, and every score has exactly the bits {@link #scores} gives it (F32 keys, L == 16, whole
     * vectors).
     */
    private static void scores3(float[] q, int qOff, MemorySegment keys, long[] offsets, int count, int headDim,
                                float scale, float[] out, int outOff, int outStride) {
        Scratch scratch = SCRATCH.get();
        float[] halves = scratch.halves3, acc = scratch.acc24;
        int i = 0;
        for (; i + 16 <= count; i += 16) {
            half8x3(q, qOff, keys, offsets, i, headDim, acc, halves, 0);
            half8x3(q, qOff, keys, offsets, i + 1, headDim, acc, halves, 3 * L);
            for (int h = 0; h < 3; h++) {
                FloatVector even = FloatVector.fromArray(F, halves, h * L);
                FloatVector odd = FloatVector.fromArray(F, halves, (3 + h) * L);
                combine(even, odd, UP1, DOWN1, ODD1).mul(scale).intoArray(out, outOff + h * outStride + i);
            }
        }
        for (int h = 0; h < 3; h++) {
            byFour(q, qOff + h * headDim, keys, offsets, i, count, headDim, false, scale, out, outOff + h * outStride);
        }
    }

    /**
     * {@link #half8} for three query heads at once, sharing each key load: head {@code h}'s eight partial sums into
     * {@code dst[dstOff + h * L ..)}, by {@link #tree8}; {@code acc} holds 24 vectors on their way there.
     */
    private static void half8x3(float[] q, int qOff, MemorySegment keys, long[] offsets, int i, int headDim,
                                float[] acc, float[] dst, int dstOff) {
        long o0 = offsets[i], o2 = offsets[i + 2], o4 = offsets[i + 4], o6 = offsets[i + 6];
        long o8 = offsets[i + 8], o10 = offsets[i + 10], o12 = offsets[i + 12], o14 = offsets[i + 14];
        int q1 = qOff + headDim, q2 = qOff + 2 * headDim;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a2 = z, a4 = z, a6 = z, a8 = z, a10 = z, a12 = z, a14 = z;
        FloatVector b0 = z, b2 = z, b4 = z, b6 = z, b8 = z, b10 = z, b12 = z, b14 = z;
        FloatVector c0 = z, c2 = z, c4 = z, c6 = z, c8 = z, c10 = z, c12 = z, c14 = z;
        for (int d = 0; d < headDim; d += L) {
            FloatVector qa = FloatVector.fromArray(F, q, qOff + d), qb = FloatVector.fromArray(F, q, q1 + d);
            FloatVector qc = FloatVector.fromArray(F, q, q2 + d);
            FloatVector k = f32(keys, o0, d);
            a0 = qa.fma(k, a0); b0 = qb.fma(k, b0); c0 = qc.fma(k, c0);
            k = f32(keys, o2, d);
            a2 = qa.fma(k, a2); b2 = qb.fma(k, b2); c2 = qc.fma(k, c2);
            k = f32(keys, o4, d);
            a4 = qa.fma(k, a4); b4 = qb.fma(k, b4); c4 = qc.fma(k, c4);
            k = f32(keys, o6, d);
            a6 = qa.fma(k, a6); b6 = qb.fma(k, b6); c6 = qc.fma(k, c6);
            k = f32(keys, o8, d);
            a8 = qa.fma(k, a8); b8 = qb.fma(k, b8); c8 = qc.fma(k, c8);
            k = f32(keys, o10, d);
            a10 = qa.fma(k, a10); b10 = qb.fma(k, b10); c10 = qc.fma(k, c10);
            k = f32(keys, o12, d);
            a12 = qa.fma(k, a12); b12 = qb.fma(k, b12); c12 = qc.fma(k, c12);
            k = f32(keys, o14, d);
            a14 = qa.fma(k, a14); b14 = qb.fma(k, b14); c14 = qc.fma(k, c14);
        }
        // the accumulators go through an array to the trees: with them written out here, C2 stopped inlining and
        // boxed the vectors (7 KB of garbage per call)
        a0.intoArray(acc, 0); a2.intoArray(acc, L); a4.intoArray(acc, 2 * L); a6.intoArray(acc, 3 * L);
        a8.intoArray(acc, 4 * L); a10.intoArray(acc, 5 * L); a12.intoArray(acc, 6 * L); a14.intoArray(acc, 7 * L);
        b0.intoArray(acc, 8 * L); b2.intoArray(acc, 9 * L); b4.intoArray(acc, 10 * L); b6.intoArray(acc, 11 * L);
        b8.intoArray(acc, 12 * L); b10.intoArray(acc, 13 * L); b12.intoArray(acc, 14 * L); b14.intoArray(acc, 15 * L);
        c0.intoArray(acc, 16 * L); c2.intoArray(acc, 17 * L); c4.intoArray(acc, 18 * L); c6.intoArray(acc, 19 * L);
        c8.intoArray(acc, 20 * L); c10.intoArray(acc, 21 * L); c12.intoArray(acc, 22 * L); c14.intoArray(acc, 23 * L);
        for (int h = 0; h < 3; h++) tree8(acc, 8 * h * L, dst, dstOff + h * L);
    }

    /**
     * Scores of keys {@code [i, i + 16)} (L == 16): one accumulator per key, then lane sums by a tree that first adds
     * lanes {@code j, j + 8} of every accumulator (two accumulators per vector), then {@code j, j + 4}, {@code j, j + 2},
     * {@code j, j + 1}: the additions of {@link VectorKernels#sum}, ending with key {@code i + k} in lane {@code k}.
     * The even and the odd keys are accumulated and reduced separately, down to the last level.
     */
    private static void block16(float[] q, int qOff, MemorySegment keys, long[] offsets, int i, int headDim,
                                float scale, float[] out, int outOff, float[] halves) {
        // the halves go through an array: half8 is too large for C2 to inline, and a vector it returned would be
        // boxed (two allocations per 16 keys, most of the engine's garbage at decode)
        half8(q, qOff, keys, offsets, i, headDim, halves, 0);
        half8(q, qOff, keys, offsets, i + 1, headDim, halves, L);
        FloatVector even = FloatVector.fromArray(F, halves, 0), odd = FloatVector.fromArray(F, halves, L);
        combine(even, odd, UP1, DOWN1, ODD1).mul(scale).intoArray(out, outOff + i);
    }

    /**
     * Keys {@code i, i + 2, .., i + 14} reduced through the first three levels of the tree: each key's two partial
     * sums in the pair of lanes {@code 2k, 2k + 1}, into {@code dst[dstOff ..)}.
     */
    private static void half8(float[] q, int qOff, MemorySegment keys, long[] offsets, int i, int headDim,
                              float[] dst, int dstOff) {
        long o0 = offsets[i], o2 = offsets[i + 2], o4 = offsets[i + 4], o6 = offsets[i + 6];
        long o8 = offsets[i + 8], o10 = offsets[i + 10], o12 = offsets[i + 12], o14 = offsets[i + 14];
        FloatVector a0 = FloatVector.zero(F), a2 = a0, a4 = a0, a6 = a0, a8 = a0, a10 = a0, a12 = a0, a14 = a0;
        for (int d = 0; d < headDim; d += L) {
            FloatVector qv = FloatVector.fromArray(F, q, qOff + d);
            a0 = qv.fma(f32(keys, o0, d), a0);
            a2 = qv.fma(f32(keys, o2, d), a2);
            a4 = qv.fma(f32(keys, o4, d), a4);
            a6 = qv.fma(f32(keys, o6, d), a6);
            a8 = qv.fma(f32(keys, o8, d), a8);
            a10 = qv.fma(f32(keys, o10, d), a10);
            a12 = qv.fma(f32(keys, o12, d), a12);
            a14 = qv.fma(f32(keys, o14, d), a14);
        }
        FloatVector c0 = combine(a0, a8, UP8, UP8, ODD8), c2 = combine(a2, a10, UP8, UP8, ODD8);
        FloatVector c4 = combine(a4, a12, UP8, UP8, ODD8), c6 = combine(a6, a14, UP8, UP8, ODD8);
        FloatVector d0 = combine(c0, c4, UP4, DOWN4, ODD4), d2 = combine(c2, c6, UP4, DOWN4, ODD4);
        combine(d0, d2, UP2, DOWN2, ODD2).intoArray(dst, dstOff);
    }

    /** The first three levels of {@link #half8}'s tree over the eight accumulators at {@code acc[from ..]}. */
    private static void tree8(float[] acc, int from, float[] dst, int dstOff) {
        FloatVector a0 = FloatVector.fromArray(F, acc, from), a2 = FloatVector.fromArray(F, acc, from + L);
        FloatVector a4 = FloatVector.fromArray(F, acc, from + 2 * L), a6 = FloatVector.fromArray(F, acc, from + 3 * L);
        FloatVector a8 = FloatVector.fromArray(F, acc, from + 4 * L), a10 = FloatVector.fromArray(F, acc, from + 5 * L);
        FloatVector a12 = FloatVector.fromArray(F, acc, from + 6 * L);
        FloatVector a14 = FloatVector.fromArray(F, acc, from + 7 * L);
        FloatVector c0 = combine(a0, a8, UP8, UP8, ODD8), c2 = combine(a2, a10, UP8, UP8, ODD8);
        FloatVector c4 = combine(a4, a12, UP8, UP8, ODD8), c6 = combine(a6, a14, UP8, UP8, ODD8);
        FloatVector d0 = combine(c0, c4, UP4, DOWN4, ODD4), d2 = combine(c2, c6, UP4, DOWN4, ODD4);
        combine(d0, d2, UP2, DOWN2, ODD2).intoArray(dst, dstOff);
    }

    /**
     * One level of the transposing tree: in lanes outside {@code odd}, {@code a[j] + a[j + s]}; in lanes of
     * {@code odd}, {@code b[j - s] + b[j]} ({@code up} rotates by {@code +s}, {@code down} by {@code -s}).
     */
    private static FloatVector combine(FloatVector a, FloatVector b, VectorShuffle<Float> up, VectorShuffle<Float> down,
                                       VectorMask<Float> odd) {
        return a.blend(b.rearrange(down), odd).add(a.rearrange(up).blend(b, odd));
    }

    /** Scores of keys {@code [from, count)}, four at a time sharing the query loads, then one by one. */
    private static void byFour(float[] q, int qOff, MemorySegment keys, long[] offsets, int from, int count,
                               int headDim, boolean f16, float scale, float[] out, int outOff) {
        int n = headDim - headDim % L;
        float[] acc = SCRATCH.get().acc;
        int i = from;
        for (; i + 4 <= count; i += 4) {
            long o0 = offsets[i], o1 = offsets[i + 1], o2 = offsets[i + 2], o3 = offsets[i + 3];
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0; d < n; d += L) {
                FloatVector qv = FloatVector.fromArray(F, q, qOff + d);
                a0 = qv.fma(kv(keys, o0, d, f16), a0);
                a1 = qv.fma(kv(keys, o1, d, f16), a1);
                a2 = qv.fma(kv(keys, o2, d, f16), a2);
                a3 = qv.fma(kv(keys, o3, d, f16), a3);
            }
            a0.intoArray(acc, 0);
            a1.intoArray(acc, L);
            a2.intoArray(acc, 2 * L);
            a3.intoArray(acc, 3 * L);
            VectorKernels.reduce4(acc, 0, out, outOff + i);
            for (int j = i; j < i + 4; j++) {
                out[outOff + j] = scoreTail(q, qOff, keys, offsets[j], n, headDim, f16, out[outOff + j]) * scale;
            }
        }
        for (; i < count; i++) {
            FloatVector a = FloatVector.zero(F);
            for (int d = 0; d < n; d += L) a = FloatVector.fromArray(F, q, qOff + d).fma(kv(keys, offsets[i], d, f16), a);
            out[outOff + i] = scoreTail(q, qOff, keys, offsets[i], n, headDim, f16, VectorKernels.sum(a)) * scale;
        }
    }

    private static float scoreTail(float[] q, int qOff, MemorySegment keys, long o, int from, int headDim, boolean f16,
                                   float s) {
        for (int d = from; d < headDim; d++) s = Math.fma(q[qOff + d], kvScalar(keys, o, d, f16), s);
        return s;
    }

    // ---- scores against staged keys ------------------------------------------------------------------------------
    //
    // Staged layout: blocks of 16 keys, block b at [b * 16 * headDim ..), element d of its key k at [d * 16 + k]: a
    // vector load gives element d of 16 keys. The accumulator lane j of block16, for 16 keys at once, is then the
    // FMA chain over c of q[c + j] * K[c + j] (c = 0, 16, ..) with q[c + j] broadcast, and the lane-sum tree becomes
    // vertical additions of those 16 vectors in the same pairs: no shuffles, and a key load serves three queries.

    static boolean stages(int headDim) {
        return L == 16 && headDim % L == 0;
    }

    static void stageKeys(MemorySegment seg, long[] offsets, int count, int headDim, boolean f16, float[] dst,
                          int dstOff) {
        float[] row = new float[headDim];
        int blocks = (count + 15) / 16;
        Arrays.fill(dst, dstOff + (count / 16) * 16 * headDim, dstOff + blocks * 16 * headDim, 0f);
        for (int p = 0; p < count; p++) {
            decodeRow(seg, offsets[p], headDim, f16, row, 0);
            int base = dstOff + (p / 16) * 16 * headDim + p % 16;
            for (int d = 0; d < headDim; d++) dst[base + d * 16] = row[d];
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

    /** The rest of the tree for query {@code r} (its level-one sums at {@code w[r + 48 m]}), scaled, to out. */
    private static void finish(float[] w, int r, float scale, float[] out, int o) {
        FloatVector w0 = FloatVector.fromArray(F, w, r), w1 = FloatVector.fromArray(F, w, r + 48);
        FloatVector w2 = FloatVector.fromArray(F, w, r + 96), w3 = FloatVector.fromArray(F, w, r + 144);
        FloatVector w4 = FloatVector.fromArray(F, w, r + 192), w5 = FloatVector.fromArray(F, w, r + 240);
        FloatVector w6 = FloatVector.fromArray(F, w, r + 288), w7 = FloatVector.fromArray(F, w, r + 336);
        FloatVector y0 = w0.add(w4).add(w2.add(w6)), y1 = w1.add(w5).add(w3.add(w7));
        y0.add(y1).mul(scale).intoArray(out, o);
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
        int n4 = headDim - headDim % (4 * L);
        int h = 0;
        for (; h + 3 <= heads; h += 3) {
            for (int d = 0; d < n4; d += 4 * L) {
                values3(w, wOff + h * wStride, wStride, values, offsets, count, d, f16, out, outOff + h * headDim, headDim);
            }
            for (int k = h; k < h + 3; k++) {
                values1(w, wOff + k * wStride, values, offsets, count, n4, headDim, f16, out, outOff + k * headDim);
            }
        }
        for (; h < heads; h++) {
            values1(w, wOff + h * wStride, values, offsets, count, 0, headDim, f16, out, outOff + h * headDim);
        }
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
            // a plain loop: C2 vectorizes it (vcvtph2ps); the Vector API's f16x here was not inlined, and every
            // vector it returned was allocated (199 KB per decode token and layer)
            for (int d = 0; d < headDim; d++) dst[dstOff + d] = Float.float16ToFloat(seg.get(WeightMatrix.SHORT_LE, o + 2L * d));
        } else {
            MemorySegment.copy(seg, FLOAT_LE, o, dst, dstOff, headDim);
        }
    }

    /** L values of an F32 K or V row at byte offset {@code o}, element {@code d}. */
    private static FloatVector f32(MemorySegment seg, long o, int d) {
        return FloatVector.fromMemorySegment(F, seg, o + 4L * d, LE);
    }

    /** L values of a K or V row at byte offset {@code o}, element {@code d}. */
    private static FloatVector kv(MemorySegment seg, long o, int d, boolean f16) {
        return f16 ? VectorKernels.f16x(seg, o + 2L * d) : FloatVector.fromMemorySegment(F, seg, o + 4L * d, LE);
    }

    private static float kvScalar(MemorySegment seg, long o, int d, boolean f16) {
        return f16 ? Float.float16ToFloat(seg.get(WeightMatrix.SHORT_LE, o + 2L * d)) : seg.get(FLOAT_LE, o + 4L * d);
    }
}
