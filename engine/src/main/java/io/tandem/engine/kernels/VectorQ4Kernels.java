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
 * {@link Q8Activations}); per block the 16-bit sums are widened to floats and folded in with one fma per lane,
 * straight from the registers that hold them.
 * Loaded reflectively by {@link Q4Kernels#create}, only when the Vector API is present.
 */
final class VectorQ4Kernels implements Q4Kernels {
    private static final VectorSpecies<Float> F = VectorKernels.floatSpecies();
    private static final int L = F.length();
    private static final int P = 2 * L;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(P * 8));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
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
     * three panels' bytes, and each block's 16-bit sums are folded into the float results from the registers that
     * hold them (see {@link #block3}). Measured (one thread, the block loop alone on cached data, 768 columns):
     * 1 / 2 / 3 panels 88 / 120 / 125 G MAC/s; the earlier four panels with the sums stored to an array and folded
     * by a second method 93-107, of which the fold alone was about 30 %. The whole kernel ({@code Q4Speed},
     * 2048 x 768): 95 -> 111 G MAC/s at n = 16, 99 -> 113 at n = 128. Four panels with the fold in registers
     * is one method too many for the JIT: C1 gives up on it ("out of virtual registers"), the method then never
     * reaches C2 and runs at 0.5 G MAC/s.
     */
    static final int PASS_PANELS = 3;

    /**
     * The batched kernel's float results of one pass, per thread: a task runs {@link #multiply} once per projection
     * and step, and a fresh array there would be garbage on every step.
     */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[PASS_PANELS * GROUP * P]);

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
            float[] acc = SCRATCH.get();
            int blocks = w.blocks();
            for (int p = p0; p < p1; ) {
                int np = p + PASS_PANELS <= p1 ? PASS_PANELS : 1;
                for (b = b0; b + GROUP <= b1; b += GROUP) {
                    java.util.Arrays.fill(acc, 0, np * GROUP * P, 0f);
                    for (int k = 0; k < blocks; k++) {
                        int pk = p * blocks + k, blk = b * blocks + k;
                        if (np == PASS_PANELS) {
                            block3(w.quants(), pk * 16 * P, blocks * 16 * P, x.x(), x.bias(), x.d(), blk, blocks,
                                    w.scales(), pk * P, blocks * P, acc);
                        } else {
                            block1(w.quants(), pk * 16 * P, x.x(), x.bias(), x.d(), blk, blocks, w.scales(), pk * P, acc);
                        }
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

    /**
     * {@code y[at + i] (+)= acc[o + i]} for the {@code valid} rows of one panel: a whole panel with vectors (C2 left
     * the scalar loop scalar, 5 % of TG at 16 sequences), a partial last panel element by element.
     */
    private static void store(float[] acc, int o, float[] y, int at, int valid, boolean accumulate) {
        if (valid == P) {
            FloatVector lo = FloatVector.fromArray(F, acc, o), hi = FloatVector.fromArray(F, acc, o + L);
            if (accumulate) {
                lo = lo.add(FloatVector.fromArray(F, y, at));
                hi = hi.add(FloatVector.fromArray(F, y, at + L));
            }
            lo.intoArray(y, at);
            hi.intoArray(y, at + L);
        } else if (accumulate) {
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
     * One block of four items (blocks {@code k0, k0 + stride, ..} of the activations) against three adjacent panel
     * blocks ({@code q}, {@code q + ps}, {@code q + 2 ps}; scales at {@code wo}, {@code wo + wps}, ..): item
     * {@code g}'s panel {@code h} is folded into {@code out[(h GROUP + g) P ..]}. The eight broadcast activations of a
     * column pair are loaded once for the three panels; 12 accumulators, the broadcasts and one panel's two decoded
     * vectors stay in registers, and the fold widens the accumulators where they are. Every vector expression is
     * written out here: a helper that takes or returns a vector and is not inlined boxes it (2-50x slower).
     */
    private static void block3(byte[] qs, int q, int ps, int[] xs, short[] bias, float[] d, int k0, int stride,
                               float[] ws, int wo, int wps, float[] out) {
        int k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
        int x0 = 32 * k0, x1 = 32 * k1, x2 = 32 * k2, x3 = 32 * k3;
        ShortVector a0 = ShortVector.broadcast(S, bias[k0]), a1 = ShortVector.broadcast(S, bias[k1]);
        ShortVector a2 = ShortVector.broadcast(S, bias[k2]), a3 = ShortVector.broadcast(S, bias[k3]);
        ShortVector b0 = a0, b1 = a1, b2 = a2, b3 = a3, c0 = a0, c1 = a1, c2 = a2, c3 = a3;
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
        }
        float d0 = d[k0], d1 = d[k1], d2 = d[k2], d3 = d[k3];
        FloatVector lo = FloatVector.fromArray(F, ws, wo), hi = FloatVector.fromArray(F, ws, wo + L);
        ((FloatVector) a0.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d0), FloatVector.fromArray(F, out, 0)).intoArray(out, 0);
        ((FloatVector) a0.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d0), FloatVector.fromArray(F, out, L)).intoArray(out, L);
        ((FloatVector) a1.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d1), FloatVector.fromArray(F, out, P)).intoArray(out, P);
        ((FloatVector) a1.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d1), FloatVector.fromArray(F, out, P + L)).intoArray(out, P + L);
        ((FloatVector) a2.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d2), FloatVector.fromArray(F, out, 2 * P)).intoArray(out, 2 * P);
        ((FloatVector) a2.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d2), FloatVector.fromArray(F, out, 2 * P + L)).intoArray(out, 2 * P + L);
        ((FloatVector) a3.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d3), FloatVector.fromArray(F, out, 3 * P)).intoArray(out, 3 * P);
        ((FloatVector) a3.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d3), FloatVector.fromArray(F, out, 3 * P + L)).intoArray(out, 3 * P + L);
        lo = FloatVector.fromArray(F, ws, wo + wps);
        hi = FloatVector.fromArray(F, ws, wo + wps + L);
        ((FloatVector) b0.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d0), FloatVector.fromArray(F, out, 4 * P)).intoArray(out, 4 * P);
        ((FloatVector) b0.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d0), FloatVector.fromArray(F, out, 4 * P + L)).intoArray(out, 4 * P + L);
        ((FloatVector) b1.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d1), FloatVector.fromArray(F, out, 5 * P)).intoArray(out, 5 * P);
        ((FloatVector) b1.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d1), FloatVector.fromArray(F, out, 5 * P + L)).intoArray(out, 5 * P + L);
        ((FloatVector) b2.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d2), FloatVector.fromArray(F, out, 6 * P)).intoArray(out, 6 * P);
        ((FloatVector) b2.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d2), FloatVector.fromArray(F, out, 6 * P + L)).intoArray(out, 6 * P + L);
        ((FloatVector) b3.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d3), FloatVector.fromArray(F, out, 7 * P)).intoArray(out, 7 * P);
        ((FloatVector) b3.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d3), FloatVector.fromArray(F, out, 7 * P + L)).intoArray(out, 7 * P + L);
        lo = FloatVector.fromArray(F, ws, wo + 2 * wps);
        hi = FloatVector.fromArray(F, ws, wo + 2 * wps + L);
        ((FloatVector) c0.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d0), FloatVector.fromArray(F, out, 8 * P)).intoArray(out, 8 * P);
        ((FloatVector) c0.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d0), FloatVector.fromArray(F, out, 8 * P + L)).intoArray(out, 8 * P + L);
        ((FloatVector) c1.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d1), FloatVector.fromArray(F, out, 9 * P)).intoArray(out, 9 * P);
        ((FloatVector) c1.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d1), FloatVector.fromArray(F, out, 9 * P + L)).intoArray(out, 9 * P + L);
        ((FloatVector) c2.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d2), FloatVector.fromArray(F, out, 10 * P)).intoArray(out, 10 * P);
        ((FloatVector) c2.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d2), FloatVector.fromArray(F, out, 10 * P + L)).intoArray(out, 10 * P + L);
        ((FloatVector) c3.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d3), FloatVector.fromArray(F, out, 11 * P)).intoArray(out, 11 * P);
        ((FloatVector) c3.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d3), FloatVector.fromArray(F, out, 11 * P + L)).intoArray(out, 11 * P + L);
    }

    /** {@link #block3} for one panel block (the panels a task has left when fewer than three remain). */
    private static void block1(byte[] qs, int q, int[] xs, short[] bias, float[] d, int k0, int stride,
                               float[] ws, int wo, float[] out) {
        int k1 = k0 + stride, k2 = k1 + stride, k3 = k2 + stride;
        int x0 = 32 * k0, x1 = 32 * k1, x2 = 32 * k2, x3 = 32 * k3;
        ShortVector a0 = ShortVector.broadcast(S, bias[k0]), a1 = ShortVector.broadcast(S, bias[k1]);
        ShortVector a2 = ShortVector.broadcast(S, bias[k2]), a3 = ShortVector.broadcast(S, bias[k3]);
        for (int j = 0; j < 16; j++) {
            ShortVector w = (ShortVector) ByteVector.fromArray(B, qs, q + j * P)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
            ShortVector h = w.lanewise(VectorOperators.LSHR, 4);
            a0 = a0.add(w.mul(bc(xs[x0 + j]))).add(h.mul(bc(xs[x0 + 16 + j])));
            a1 = a1.add(w.mul(bc(xs[x1 + j]))).add(h.mul(bc(xs[x1 + 16 + j])));
            a2 = a2.add(w.mul(bc(xs[x2 + j]))).add(h.mul(bc(xs[x2 + 16 + j])));
            a3 = a3.add(w.mul(bc(xs[x3 + j]))).add(h.mul(bc(xs[x3 + 16 + j])));
        }
        float d0 = d[k0], d1 = d[k1], d2 = d[k2], d3 = d[k3];
        FloatVector lo = FloatVector.fromArray(F, ws, wo), hi = FloatVector.fromArray(F, ws, wo + L);
        ((FloatVector) a0.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d0), FloatVector.fromArray(F, out, 0)).intoArray(out, 0);
        ((FloatVector) a0.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d0), FloatVector.fromArray(F, out, L)).intoArray(out, L);
        ((FloatVector) a1.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d1), FloatVector.fromArray(F, out, P)).intoArray(out, P);
        ((FloatVector) a1.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d1), FloatVector.fromArray(F, out, P + L)).intoArray(out, P + L);
        ((FloatVector) a2.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d2), FloatVector.fromArray(F, out, 2 * P)).intoArray(out, 2 * P);
        ((FloatVector) a2.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d2), FloatVector.fromArray(F, out, 2 * P + L)).intoArray(out, 2 * P + L);
        ((FloatVector) a3.convertShape(VectorOperators.S2F, F, 0)).fma(lo.mul(d3), FloatVector.fromArray(F, out, 3 * P)).intoArray(out, 3 * P);
        ((FloatVector) a3.convertShape(VectorOperators.S2F, F, 1)).fma(hi.mul(d3), FloatVector.fromArray(F, out, 3 * P + L)).intoArray(out, 3 * P + L);
    }

    private static final float ROUNDER = 12582912f; // 1.5 * 2^23: (v + R) - R is Math.rint(v) for |v| < 2^22

    /**
     * {@link Q8Activations#quantizeItems} with vectors: the same values (max and integer sums are exact in any order).
     * With 16 lanes a block is two vectors and written out without the inner loops: where C2 inlined this into its
     * caller (JMH's loop; the engine's task lambda is another such caller), it kept those one-trip loops and boxed the
     * vectors carried around them (16 items x 768: 25 us and 221 KB per call, against 6 us and nothing). With 8 lanes
     * the loops run twice and four times and compile without boxes.
     */
    @Override
    public void quantize(Q8Activations a, float[] src, int i0, int i1) {
        int[] xs = a.x();
        short[] bias = a.bias();
        float[] d = a.d();
        if (L == 16) {
            for (int blk = i0 * a.blocks(); blk < i1 * a.blocks(); blk++) {
                int o = 32 * blk;
                FloatVector lo = FloatVector.fromArray(F, src, o), hi = FloatVector.fromArray(F, src, o + 16);
                float scale = lo.abs().max(hi.abs()).reduceLanes(VectorOperators.MAX) / 127f;
                float inv = scale == 0 ? 0 : 1f / scale;
                IntVector l = rint(lo.mul(inv)), h = rint(hi.mul(inv));
                twice(l).intoArray(xs, o);
                twice(h.sub(l.lanewise(VectorOperators.LSHL, 4))).intoArray(xs, o + 16);
                bias[blk] = (short) (-8 * l.add(h).reduceLanes(VectorOperators.ADD));
                d[blk] = scale;
            }
            return;
        }
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
