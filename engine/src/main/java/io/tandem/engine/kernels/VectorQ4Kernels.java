package io.tandem.engine.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

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
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Items that share one pass over a panel's bytes in the batched kernel. */
    static final int GROUP = 4;

    @Override
    public int panelRows() {
        return P;
    }

    @Override
    public void multiply(Q4Panels w, int p0, int p1, Q8Activations x, int b0, int b1, float[] y, int ldy,
                         boolean accumulate) {
        if (w.panelRows() != P) throw new IllegalArgumentException(w + " is packed for " + w.panelRows() + " rows per panel, these kernels need " + P);
        if (x.cols() != w.cols()) throw new IllegalArgumentException(w + ": activations have " + x.cols() + " columns");
        float[] acc = new float[GROUP * P];
        for (int p = p0; p < p1; p++) {
            int r0 = p * P, valid = Math.min(P, w.rows() - r0);
            int b = b0;
            for (; b + GROUP <= b1; b += GROUP) {
                panel4(w.data(), p * w.panelBytes(), w.blocks(), x.x(), x.bias(), x.d(), b * w.blocks(), acc);
                for (int g = 0; g < GROUP; g++) store(acc, g * P, y, (b + g) * ldy + r0, valid, accumulate);
            }
            for (; b < b1; b++) {
                panel1(w.data(), p * w.panelBytes(), w.blocks(), x.x(), x.bias(), x.d(), b * w.blocks(), acc);
                store(acc, 0, y, b * ldy + r0, valid, accumulate);
            }
        }
    }

    private static void store(float[] acc, int o, float[] y, int at, int valid, boolean accumulate) {
        if (accumulate) {
            for (int i = 0; i < valid; i++) y[at + i] += acc[o + i];
        } else {
            System.arraycopy(acc, o, y, at, valid);
        }
    }

    /** One item against one panel: the P dot products into {@code out[0 .. P)}. */
    private static void panel1(MemorySegment seg, long base, int blocks, short[] xs, short[] bias, float[] d, int blk0,
                               float[] out) {
        FloatVector s0 = FloatVector.zero(F), s1 = s0;
        long bb = 20L * P;
        for (int k = 0; k < blocks; k++) {
            long bo = base + k * bb, q = bo + 4L * P;
            int xo = 32 * (blk0 + k);
            ShortVector acc = ShortVector.broadcast(S, bias[blk0 + k]);
            for (int j = 0; j < 16; j++) {
                ShortVector wv = (ShortVector) ByteVector.fromMemorySegment(B, seg, q + (long) j * P, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector hi = wv.lanewise(VectorOperators.LSHR, 4);
                acc = acc.add(wv.mul(xs[xo + j])).add(hi.mul(xs[xo + 16 + j]));
            }
            float dx = d[blk0 + k];
            FloatVector f0 = (FloatVector) acc.convertShape(VectorOperators.S2I, I, 0).convertShape(VectorOperators.I2F, F, 0);
            FloatVector f1 = (FloatVector) acc.convertShape(VectorOperators.S2I, I, 1).convertShape(VectorOperators.I2F, F, 0);
            s0 = f0.fma(FloatVector.fromMemorySegment(F, seg, bo, LE).mul(dx), s0);
            s1 = f1.fma(FloatVector.fromMemorySegment(F, seg, bo + 4L * L, LE).mul(dx), s1);
        }
        s0.intoArray(out, 0);
        s1.intoArray(out, L);
    }

    /** Four items against one panel, sharing the decoded bytes: item g's P dot products into {@code out[g P ..]}. */
    private static void panel4(MemorySegment seg, long base, int blocks, short[] xs, short[] bias, float[] d, int blk0,
                               float[] out) {
        FloatVector z = FloatVector.zero(F);
        FloatVector s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
        long bb = 20L * P;
        for (int k = 0; k < blocks; k++) {
            long bo = base + k * bb, q = bo + 4L * P;
            int k0 = blk0 + k, k1 = k0 + blocks, k2 = k1 + blocks, k3 = k2 + blocks;
            int x0 = 32 * k0, x1 = 32 * k1, x2 = 32 * k2, x3 = 32 * k3;
            ShortVector a0 = ShortVector.broadcast(S, bias[k0]), a1 = ShortVector.broadcast(S, bias[k1]);
            ShortVector a2 = ShortVector.broadcast(S, bias[k2]), a3 = ShortVector.broadcast(S, bias[k3]);
            for (int j = 0; j < 16; j++) {
                ShortVector wv = (ShortVector) ByteVector.fromMemorySegment(B, seg, q + (long) j * P, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2S, S, 0);
                ShortVector hi = wv.lanewise(VectorOperators.LSHR, 4);
                a0 = a0.add(wv.mul(xs[x0 + j])).add(hi.mul(xs[x0 + 16 + j]));
                a1 = a1.add(wv.mul(xs[x1 + j])).add(hi.mul(xs[x1 + 16 + j]));
                a2 = a2.add(wv.mul(xs[x2 + j])).add(hi.mul(xs[x2 + 16 + j]));
                a3 = a3.add(wv.mul(xs[x3 + j])).add(hi.mul(xs[x3 + 16 + j]));
            }
            FloatVector dw0 = FloatVector.fromMemorySegment(F, seg, bo, LE);
            FloatVector dw1 = FloatVector.fromMemorySegment(F, seg, bo + 4L * L, LE);
            s00 = lo(a0).fma(dw0.mul(d[k0]), s00);
            s01 = hi(a0).fma(dw1.mul(d[k0]), s01);
            s10 = lo(a1).fma(dw0.mul(d[k1]), s10);
            s11 = hi(a1).fma(dw1.mul(d[k1]), s11);
            s20 = lo(a2).fma(dw0.mul(d[k2]), s20);
            s21 = hi(a2).fma(dw1.mul(d[k2]), s21);
            s30 = lo(a3).fma(dw0.mul(d[k3]), s30);
            s31 = hi(a3).fma(dw1.mul(d[k3]), s31);
        }
        s00.intoArray(out, 0);
        s01.intoArray(out, L);
        s10.intoArray(out, P);
        s11.intoArray(out, P + L);
        s20.intoArray(out, 2 * P);
        s21.intoArray(out, 2 * P + L);
        s30.intoArray(out, 3 * P);
        s31.intoArray(out, 3 * P + L);
    }

    private static FloatVector lo(ShortVector v) {
        return (FloatVector) v.convertShape(VectorOperators.S2I, I, 0).convertShape(VectorOperators.I2F, F, 0);
    }

    private static FloatVector hi(ShortVector v) {
        return (FloatVector) v.convertShape(VectorOperators.S2I, I, 1).convertShape(VectorOperators.I2F, F, 0);
    }
}
