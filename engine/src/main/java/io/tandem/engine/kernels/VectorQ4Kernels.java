package io.tandem.engine.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Q4Kernels} on the Vector API: a panel's rows are the lanes of one {@code ShortVector} (32 rows with 512-bit
 * vectors, 16 with 256-bit). Per column pair of a block: one zero-extending load of the panel's bytes, one shift,
 * two 16-bit multiplies by broadcast activations and two adds (arithmetic modulo {@code 2^16}, exact, see
 * {@link Q8Activations}); per block the 16-bit sums are widened to floats and folded in with one fma per lane.
 * Loaded reflectively by {@link Q4Kernels#create}, only when the Vector API is present.
 */
final class VectorQ4Kernels implements Q4Kernels {
    private static final VectorSpecies<Float> F = VectorKernels.floatSpecies();
    private static final int L = F.length();
    private static final int P = 2 * L;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(P * 8));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Half a panel's rows of 16-bit sums: widened to one float vector. */
    private static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    /**
     * Items that share one pass over a panel's bytes in the batched kernel. Measured alternatives (thread CPU time,
     * one thread, 2048x768 and 768x2048, n = 16..512, against this kernel in the same JVM): 6 items per pass 0 to +4 %
     * (noise level); 8 items in one method 4-5x slower (C2 compiles it, without deoptimizing, into far slower code);
     * the panel decoded once into a 16-bit tile shared by all items 10-30 % slower. The loop is bound by the 16-bit
     * multiplies and adds themselves (two vector ops per 32 multiply-adds), not by the decode it shares.
     */
    static final int GROUP = 4;
    /**
     * Panels that share one pass over a group's activations in the batched kernel: each broadcast activation serves
     * four panels' bytes. Measured (thread CPU time, one thread, 2048x768, the variants alternating in one JVM):
     * 1 / 2 / 3 / 4 panels per pass 72 / 90 / 97 / 97 G MAC/s at n = 128 and 32 / 50 / 60 / 68 at n = 16. Only with
     * every vector expression written out in the pass's method: a helper that returns a vector and is not inlined
     * makes the same code 2-3x slower than one panel per pass.
     */
    static final int PASS_PANELS = 4;

    /**
     * The batched kernel's float results and 16-bit sums of one pass, per thread: a task runs {@link #multiply} once
     * per projection and step, and fresh arrays there (3 KB each time) were garbage on every step.
     */
    private static final ThreadLocal<PassScratch> SCRATCH = ThreadLocal.withInitial(PassScratch::new);

    private static final class PassScratch {
        final float[] acc = new float[PASS_PANELS * GROUP * P];
        final short[] sums = new short[PASS_PANELS * GROUP * P];
    }

    @Override
    public int panelRows() {
        return P;
    }

    @Override
    public int batchPanels() {
        return PASS_PANELS;
    }

    @Override
    public void multiply(Q4Panels w, int p0, int p1, Q8Activations x, int b0, int b1, float[] y, int ldy,
                         boolean accumulate) {
        if (w.panelRows() != P) throw new IllegalArgumentException(w + " is packed for " + w.panelRows() + " rows per panel, these kernels need " + P);
        if (x.cols() != w.cols()) throw new IllegalArgumentException(w + ": activations have " + x.cols() + " columns");
        int b = b0;
        if (b1 - b0 >= GROUP) {
            PassScratch scratch = SCRATCH.get();
            float[] acc = scratch.acc;
            short[] sums = scratch.sums;
            int blocks = w.blocks();
            for (int p = p0; p < p1; ) {
                int np = p + PASS_PANELS <= p1 ? PASS_PANELS : 1;
                for (b = b0; b + GROUP <= b1; b += GROUP) {
                    if (np == PASS_PANELS) {
                        pass4x4(w.quants(), w.scales(), p * blocks, blocks, x.x(), x.bias(), x.d(), b * blocks, acc, sums);
                    } else {
                        panel4(w.quants(), w.scales(), p * blocks, blocks, x.x(), x.bias(), x.d(), b * blocks, acc, sums);
                    }
                    for (int h = 0; h < np; h++) {
                        int r0 = (p + h) * P, valid = Math.min(P, w.rows() - r0);
                        for (int g = 0; g < GROUP; g++) {
                            store(acc, (h * GROUP + g) * P, y, (b + g) * ldy + r0, valid, accumulate);
                        }
                    }
                }
                p += np;
            }
        }
        for (; b < b1; b++) matvec(w, p0, p1, x, b, y, b * ldy, accumulate);
    }

    private static void store(float[] acc, int o, float[] y, int at, int valid, boolean accumulate) {
        if (accumulate) {
            for (int i = 0; i < valid; i++) y[at + i] += acc[o + i];
        } else {
            System.arraycopy(acc, o, y, at, valid);
        }
    }

    /**
     * One item against panels {@code [p0, p1)}: {@code y[yo + r] (+)=} the dot products. One method holding every
     * loop: it is too big for the JIT to inline into {@link #multiply}, whose compilation would otherwise run out of
     * inlining budget halfway through the vector operations (and box vectors, ~50x slower).
     */
    private static void matvec(Q4Panels w, int p0, int p1, Q8Activations x, int item, float[] y, int yo,
                               boolean accumulate) {
        byte[] qs = w.quants();
        float[] ws = w.scales();
        int[] xs = x.x();
        short[] bias = x.bias();
        float[] d = x.d();
        int blocks = w.blocks(), blk0 = item * blocks;
        for (int p = p0; p < p1; p++) {
            int pk0 = p * blocks;
            FloatVector s0 = FloatVector.zero(F), s1 = s0;
            for (int k = 0; k < blocks; k++) {
                int q = (pk0 + k) * 16 * P, xo = 32 * (blk0 + k);
                ShortVector acc = ShortVector.broadcast(S, bias[blk0 + k]);
                for (int j = 0; j < 16; j++) {
                    ShortVector wv = (ShortVector) ByteVector.fromArray(B, qs, q + j * P)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                    ShortVector hi = wv.lanewise(VectorOperators.LSHR, 4);
                    acc = acc.add(wv.mul(bc(xs[xo + j]))).add(hi.mul(bc(xs[xo + 16 + j])));
                }
                float dx = d[blk0 + k];
                int so = (pk0 + k) * P;
                s0 = lo(acc).fma(FloatVector.fromArray(F, ws, so).mul(dx), s0);
                s1 = hi(acc).fma(FloatVector.fromArray(F, ws, so + L).mul(dx), s1);
            }
            int r0 = p * P, valid = Math.min(P, w.rows() - r0), at = yo + r0;
            if (valid == P && !accumulate) {
                s0.intoArray(y, at);
                s1.intoArray(y, at + L);
            } else {
                if (accumulate && valid == P) {
                    s0.add(FloatVector.fromArray(F, y, at)).intoArray(y, at);
                    s1.add(FloatVector.fromArray(F, y, at + L)).intoArray(y, at + L);
                } else {
                    for (int i = 0; i < valid; i++) {
                        float v = i < L ? s0.lane(i) : s1.lane(i - L);
                        y[at + i] = accumulate ? y[at + i] + v : v;
                    }
                }
            }
        }
    }

    /**
     * Four items against one panel, sharing the decoded bytes: item g's P dot products into {@code out[g P ..]}.
     * Split in two methods that exchange the 16-bit sums through {@code sums}: in one method the JIT stops inlining
     * the vector operations (NodeCountInliningCutoff) and boxes vectors.
     */
    private static void panel4(byte[] qs, float[] ws, int pk0, int blocks, int[] xs, short[] bias, float[] d, int blk0,
                               float[] out, short[] sums) {
        java.util.Arrays.fill(out, 0, GROUP * P, 0f);
        for (int k = 0; k < blocks; k++) {
            sums4(qs, (pk0 + k) * 16 * P, xs, bias, blk0 + k, blocks, sums);
            int so = (pk0 + k) * P;
            for (int g = 0; g < GROUP; g++) fold(ws, so, d[blk0 + k + g * blocks], sums, g * P, out, g * P);
        }
    }

    /**
     * {@link #panel4} for four adjacent panels at once: panel {@code h}'s item {@code g} into
     * {@code out[(h GROUP + g) P ..]}.
     */
    private static void pass4x4(byte[] qs, float[] ws, int pk0, int blocks, int[] xs, short[] bias, float[] d,
                                int blk0, float[] out, short[] sums) {
        java.util.Arrays.fill(out, 0, PASS_PANELS * GROUP * P, 0f);
        for (int k = 0; k < blocks; k++) {
            sums4x4(qs, (pk0 + k) * 16 * P, blocks * 16 * P, xs, bias, blk0 + k, blocks, sums);
            for (int g = 0; g < GROUP; g++) {
                float dx = d[blk0 + k + g * blocks];
                for (int h = 0; h < PASS_PANELS; h++) {
                    int o = (h * GROUP + g) * P;
                    fold(ws, (pk0 + h * blocks + k) * P, dx, sums, o, out, o);
                }
            }
        }
    }

    /**
     * {@link #sums4} for four panel blocks ({@code q}, {@code q + ps}, ..): the eight broadcast activations of a
     * column pair are loaded once for the four panels. 16 accumulators, 8 broadcasts and one panel's two decoded
     * vectors stay in registers.
     */
    private static void sums4x4(byte[] qs, int q, int ps, int[] xs, short[] bias, int k0, int stride, short[] sums) {
        int k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
        int x0 = 32 * k0, x1 = 32 * k1, x2 = 32 * k2, x3 = 32 * k3;
        ShortVector a0 = ShortVector.broadcast(S, bias[k0]), a1 = ShortVector.broadcast(S, bias[k1]);
        ShortVector a2 = ShortVector.broadcast(S, bias[k2]), a3 = ShortVector.broadcast(S, bias[k3]);
        ShortVector b0 = a0, b1 = a1, b2 = a2, b3 = a3, c0 = a0, c1 = a1, c2 = a2, c3 = a3;
        ShortVector e0 = a0, e1 = a1, e2 = a2, e3 = a3;
        for (int j = 0; j < 16; j++) {
            ShortVector l0 = bc(xs[x0 + j]), h0 = bc(xs[x0 + 16 + j]), l1 = bc(xs[x1 + j]), h1 = bc(xs[x1 + 16 + j]);
            ShortVector l2 = bc(xs[x2 + j]), h2 = bc(xs[x2 + 16 + j]), l3 = bc(xs[x3 + j]), h3 = bc(xs[x3 + 16 + j]);
            int o = q + j * P;
            ShortVector w = (ShortVector) ByteVector.fromArray(B, qs, o).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector h = w.lanewise(VectorOperators.LSHR, 4);
            a0 = a0.add(w.mul(l0)).add(h.mul(h0));
            a1 = a1.add(w.mul(l1)).add(h.mul(h1));
            a2 = a2.add(w.mul(l2)).add(h.mul(h2));
            a3 = a3.add(w.mul(l3)).add(h.mul(h3));
            w = (ShortVector) ByteVector.fromArray(B, qs, o + ps).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            h = w.lanewise(VectorOperators.LSHR, 4);
            b0 = b0.add(w.mul(l0)).add(h.mul(h0));
            b1 = b1.add(w.mul(l1)).add(h.mul(h1));
            b2 = b2.add(w.mul(l2)).add(h.mul(h2));
            b3 = b3.add(w.mul(l3)).add(h.mul(h3));
            w = (ShortVector) ByteVector.fromArray(B, qs, o + 2 * ps).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            h = w.lanewise(VectorOperators.LSHR, 4);
            c0 = c0.add(w.mul(l0)).add(h.mul(h0));
            c1 = c1.add(w.mul(l1)).add(h.mul(h1));
            c2 = c2.add(w.mul(l2)).add(h.mul(h2));
            c3 = c3.add(w.mul(l3)).add(h.mul(h3));
            w = (ShortVector) ByteVector.fromArray(B, qs, o + 3 * ps).convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            h = w.lanewise(VectorOperators.LSHR, 4);
            e0 = e0.add(w.mul(l0)).add(h.mul(h0));
            e1 = e1.add(w.mul(l1)).add(h.mul(h1));
            e2 = e2.add(w.mul(l2)).add(h.mul(h2));
            e3 = e3.add(w.mul(l3)).add(h.mul(h3));
        }
        a0.intoArray(sums, 0);
        a1.intoArray(sums, P);
        a2.intoArray(sums, 2 * P);
        a3.intoArray(sums, 3 * P);
        b0.intoArray(sums, 4 * P);
        b1.intoArray(sums, 5 * P);
        b2.intoArray(sums, 6 * P);
        b3.intoArray(sums, 7 * P);
        c0.intoArray(sums, 8 * P);
        c1.intoArray(sums, 9 * P);
        c2.intoArray(sums, 10 * P);
        c3.intoArray(sums, 11 * P);
        e0.intoArray(sums, 12 * P);
        e1.intoArray(sums, 13 * P);
        e2.intoArray(sums, 14 * P);
        e3.intoArray(sums, 15 * P);
    }

    /** The 16-bit block sums of four items (blocks {@code k0, k0 + stride, ..}) against one panel block at {@code q}. */
    private static void sums4(byte[] qs, int q, int[] xs, short[] bias, int k0, int stride, short[] sums) {
        int k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
        int x0 = 32 * k0, x1 = 32 * k1, x2 = 32 * k2, x3 = 32 * k3;
        ShortVector a0 = ShortVector.broadcast(S, bias[k0]), a1 = ShortVector.broadcast(S, bias[k1]);
        ShortVector a2 = ShortVector.broadcast(S, bias[k2]), a3 = ShortVector.broadcast(S, bias[k3]);
        for (int j = 0; j < 16; j++) {
            ShortVector wv = (ShortVector) ByteVector.fromArray(B, qs, q + j * P)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector hi = wv.lanewise(VectorOperators.LSHR, 4);
            a0 = a0.add(wv.mul(bc(xs[x0 + j]))).add(hi.mul(bc(xs[x0 + 16 + j])));
            a1 = a1.add(wv.mul(bc(xs[x1 + j]))).add(hi.mul(bc(xs[x1 + 16 + j])));
            a2 = a2.add(wv.mul(bc(xs[x2 + j]))).add(hi.mul(bc(xs[x2 + 16 + j])));
            a3 = a3.add(wv.mul(bc(xs[x3 + j]))).add(hi.mul(bc(xs[x3 + 16 + j])));
        }
        a0.intoArray(sums, 0);
        a1.intoArray(sums, P);
        a2.intoArray(sums, 2 * P);
        a3.intoArray(sums, 3 * P);
    }

    /**
     * {@code out[o ..] = fma(float(sums[so ..]), dw * dx, out[o ..])} over the P rows of a panel block. Each half is
     * loaded as its own half-width vector and widened in one step (measured 2-10 % faster for the whole batched kernel
     * than widening the two halves of one full-width load, likely the cross-lane extract of the upper half; the whole
     * fold is about a sixth of the batched time: the kernel ran 1.2x faster with it skipped).
     */
    private static void fold(float[] ws, int wo, float dx, short[] sums, int so, float[] out, int o) {
        FloatVector lo = (FloatVector) ShortVector.fromArray(SH, sums, so).convertShape(VectorOperators.S2F, F, 0);
        FloatVector hi = (FloatVector) ShortVector.fromArray(SH, sums, so + L).convertShape(VectorOperators.S2F, F, 0);
        lo.fma(FloatVector.fromArray(F, ws, wo).mul(dx), FloatVector.fromArray(F, out, o)).intoArray(out, o);
        hi.fma(FloatVector.fromArray(F, ws, wo + L).mul(dx), FloatVector.fromArray(F, out, o + L)).intoArray(out, o + L);
    }

    private static final float ROUNDER = 12582912f; // 1.5 * 2^23: (v + R) - R is Math.rint(v) for |v| < 2^22

    /** {@link Q8Activations#quantizeItems} with vectors: the same values (max and integer sums are exact in any order). */
    @Override
    public void quantize(Q8Activations a, float[] src, int i0, int i1) {
        int[] xs = a.x();
        short[] bias = a.bias();
        float[] d = a.d();
        for (int blk = i0 * a.blocks(); blk < i1 * a.blocks(); blk++) {
            int o = 32 * blk;
            FloatVector m = FloatVector.fromArray(F, src, o).abs();
            for (int c = L; c < 32; c += L) m = m.max(FloatVector.fromArray(F, src, o + c).abs());
            float scale = m.reduceLanes(VectorOperators.MAX) / 127f;
            float inv = scale == 0 ? 0 : 1f / scale;
            IntVector sum = IntVector.zero(I);
            for (int h = 0; h < 16; h += L) {
                IntVector lo = rint(FloatVector.fromArray(F, src, o + h).mul(inv));
                IntVector hi = rint(FloatVector.fromArray(F, src, o + 16 + h).mul(inv));
                sum = sum.add(lo).add(hi);
                twice(lo).intoArray(xs, o + h);
                twice(hi.sub(lo.lanewise(VectorOperators.LSHL, 4))).intoArray(xs, o + 16 + h);
            }
            bias[blk] = (short) (-8 * sum.reduceLanes(VectorOperators.ADD));
            d[blk] = scale;
        }
    }

    private static IntVector rint(FloatVector v) {
        return (IntVector) v.add(ROUNDER).sub(ROUNDER).convertShape(VectorOperators.F2I, I, 0);
    }

    private static IntVector twice(IntVector v) {
        return v.and(0xffff).or(v.lanewise(VectorOperators.LSHL, 16));
    }

    /** A 16-bit value stored twice in an int, in every lane (a 32-bit broadcast: a plain load on x86, no shuffle). */
    private static ShortVector bc(int twice) {
        return IntVector.broadcast(I, twice).reinterpretAsShorts();
    }

    private static FloatVector lo(ShortVector v) {
        return (FloatVector) v.convertShape(VectorOperators.S2I, I, 0).convertShape(VectorOperators.I2F, F, 0);
    }

    private static FloatVector hi(ShortVector v) {
        return (FloatVector) v.convertShape(VectorOperators.S2I, I, 1).convertShape(VectorOperators.I2F, F, 0);
    }
}
