package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static io.tandem.engine.kernels.WeightMatrix.FLOAT_LE;
import static io.tandem.engine.kernels.WeightMatrix.SHORT_LE;

/**
 * Kernels on the Vector API with the CPU's preferred float species (8 or 16 lanes; a narrower one with the system
 * property {@value #BITS_PROPERTY}). Loaded only through {@link VectorSupport}.
 *
 * <p>Numerics: a dot product keeps one accumulator vector per output value, adds lane chunks in column order with
 * fused multiply-add, and sums the lanes with a fixed shuffle tree ({@link #sum}); weights are decoded exactly
 * ({@code d * q} is exact in float). Decoding then multiplying ({@link #dequantize} + {@link #gemm}) therefore gives
 * the same bits as the fused {@link #matvec}, whatever the batch. ({@code reduceLanes(ADD)} is not used: its order
 * may change when the JIT compiles it.)
 */
final class VectorKernels implements Kernels {
    /** System property forcing a narrower vector width (e.g. 256, to test the 8-lane path on an AVX-512 machine). */
    static final String BITS_PROPERTY = "tandem.kernels.vectorBits";
    private static final VectorSpecies<Float> F = species();
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final VectorSpecies<Byte> B = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final VectorSpecies<Short> S = L >= 4 ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16)) : null;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorShuffle<Float> ROT8 = rotation(8), ROT4 = rotation(4), ROT2 = rotation(2), ROT1 = rotation(1);
    // for reduce4: rotations by half, a quarter and minus a quarter of the lanes; masks of the upper half and of
    // the odd quarters
    private static final VectorShuffle<Float> ROT_HALF = rotation(L / 2), ROT_QUARTER = rotation(L / 4),
            ROT_BACK_QUARTER = rotation(L - L / 4);
    private static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(F, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));
    private static final VectorMask<Float> ODD_QUARTERS = VectorMask.fromLong(F,
            (((1L << (L / 4)) - 1) << (L / 4)) | (((1L << (L / 4)) - 1) << (3 * L / 4)));

    private static VectorSpecies<Float> species() {
        String bits = System.getProperty(BITS_PROPERTY);
        if (bits == null || bits.isBlank()) return FloatVector.SPECIES_PREFERRED;
        int b = Math.min(Integer.parseInt(bits.trim()), FloatVector.SPECIES_PREFERRED.vectorBitSize());
        return VectorSpecies.of(float.class, VectorShape.forBitSize(b));
    }

    static boolean supported() {
        return L == 8 || L == 16;
    }

    static VectorSpecies<Float> floatSpecies() {
        return F;
    }

    static int lanes() {
        return L;
    }

    private static VectorShuffle<Float> rotation(int by) {
        return VectorShuffle.fromOp(F, i -> (i + by) % L);
    }

    /** Sum of the lanes in a fixed order (a rotation tree), identical in interpreted and compiled code. */
    static float sum(FloatVector v) {
        if (L == 16) v = v.add(v.rearrange(ROT8));
        v = v.add(v.rearrange(ROT4));
        v = v.add(v.rearrange(ROT2));
        v = v.add(v.rearrange(ROT1));
        return v.lane(0);
    }

    /**
     * The lane sums of four accumulators stored at {@code acc[o ..]} (a, b, c, d; L floats each) into
     * {@code out[oo .. oo+3]}, each with exactly the additions of {@link #sum} (so the bits are the same) but
     * sharing the shuffles. Accumulators travel through an array because a vector passed to a method that is not
     * inlined gets boxed.
     */
    static void reduce4(float[] acc, int o, float[] out, int oo) {
        FloatVector a = FloatVector.fromArray(F, acc, o), b = FloatVector.fromArray(F, acc, o + L);
        FloatVector c = FloatVector.fromArray(F, acc, o + 2 * L), d = FloatVector.fromArray(F, acc, o + 3 * L);
        // level 1: [a_i + a_{i+L/2} | b_i + b_{i+L/2}] and the same for c, d
        FloatVector p = a.blend(b.rearrange(ROT_HALF), UPPER_HALF).add(a.rearrange(ROT_HALF).blend(b, UPPER_HALF));
        FloatVector q = c.blend(d.rearrange(ROT_HALF), UPPER_HALF).add(c.rearrange(ROT_HALF).blend(d, UPPER_HALF));
        // level 2: quarters [a | c | b | d], lane i of a quarter = x_i + x_{i+L/4}
        FloatVector r = p.blend(q.rearrange(ROT_BACK_QUARTER), ODD_QUARTERS)
                .add(p.rearrange(ROT_QUARTER).blend(q, ODD_QUARTERS));
        // remaining levels inside each quarter
        if (L == 16) r = r.add(r.rearrange(ROT2));
        r = r.add(r.rearrange(ROT1));
        out[oo] = r.lane(0);
        out[oo + 1] = r.lane(L / 2);
        out[oo + 2] = r.lane(L / 4);
        out[oo + 3] = r.lane(3 * L / 4);
    }

    @Override
    public String name() {
        return "vector-" + F.vectorBitSize();
    }

    // ---- packed weights (PanelKernels) ---------------------------------------------------------------------------

    @Override
    public LinearWeight pack(WeightMatrix w) {
        // one switch on the type decides which form a weight takes
        return PanelKernels.packs(w.type()) ? PanelKernels.pack(w) : w;
    }

    @Override
    public int panelScratch() {
        return PanelKernels.scratchFloats();
    }

    @Override
    public void matvec(PanelMatrix w, int p0, int p1, float[] x, int xOff, float[] y, int yOff, boolean accumulate,
                       float[] scratch) {
        PanelKernels.matvec(w, p0, p1, x, xOff, y, yOff, accumulate, scratch);
    }

    @Override
    public void decode(PanelMatrix w, int p, float[] tile, int tOff) {
        PanelKernels.decode(w, p, 0, w.cols(), tile, tOff);
    }

    @Override
    public void gemm(PanelMatrix w, float[] tile, int tp, int p, float[] x, int b0, int b1, float[] y, int ldy,
                     boolean accumulate, float[] scratch) {
        PanelKernels.gemm(w, tile, tp, p, x, b0, b1, y, ldy, accumulate, scratch);
    }

    @Override
    public boolean gemmsInPlace(PanelMatrix w, int n) {
        return w.source().type() == GgufTensorType.Q8_0 && n <= PanelKernels.Q8_IN_PLACE_BATCH;
    }

    @Override
    public void gemmInPlace(PanelMatrix w, int tp, int p, float[] x, int b0, int b1, float[] y, int ldy,
                            boolean accumulate, float[] scratch) {
        PanelKernels.gemmQ8InPlace(w, tp, p, x, b0, b1, y, ldy, accumulate, scratch);
    }

    // ---- decoding one lane chunk of a row -------------------------------------------------------------------

    private static float f16(MemorySegment seg, long off) {
        return Float.float16ToFloat(seg.get(SHORT_LE, off));
    }

    /** L consecutive int8 values at {@code off}, times {@code d}. */
    private static FloatVector q8(MemorySegment seg, long off, FloatVector d) {
        return ((FloatVector) ByteVector.fromMemorySegment(B, seg, off, LE).convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

    /** Low nibbles (elements j..) of L bytes at {@code off}, as {@code d * (q - 8)}. */
    private static FloatVector q4lo(MemorySegment seg, long off, FloatVector d) {
        ByteVector q = ByteVector.fromMemorySegment(B, seg, off, LE).and((byte) 0xf).sub((byte) 8);
        return ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

    /** High nibbles (elements 16 + j..) of L bytes at {@code off}, as {@code d * (q - 8)}. */
    private static FloatVector q4hi(MemorySegment seg, long off, FloatVector d) {
        ByteVector q = ByteVector.fromMemorySegment(B, seg, off, LE).lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
        return ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d);
    }

    static FloatVector bf16x(MemorySegment seg, long off) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, off, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    // ---- dequantize -------------------------------------------------------------------------------------------

    @Override
    public void dequantize(WeightMatrix w, int r0, int r1, float[] dst, int dOff) {
        // one small method per type: in one big method the JIT stops inlining the decoders (and boxes vectors)
        MemorySegment seg = w.data();
        int cols = w.cols();
        for (int r = r0; r < r1; r++) {
            long base = r * w.rowBytes();
            int o = dOff + (r - r0) * cols;
            switch (w.type()) {
                case F32 -> MemorySegment.copy(seg, FLOAT_LE, base, dst, o, cols);
                case F16 -> decodeF16(seg, base, cols, dst, o);
                case BF16 -> decodeBf16(seg, base, cols, dst, o);
                case Q8_0 -> decodeQ8(seg, base, cols, dst, o);
                case Q4_0 -> decodeQ4(seg, base, cols, dst, o);
                default -> throw new UnsupportedTensorTypeException(w.name(), w.type());
            }
        }
    }

    // F16, BF16: plain loops for the reason given at decodeQ8 (C2 vectorizes them)

    private static void decodeF16(MemorySegment seg, long base, int cols, float[] dst, int o) {
        for (int c = 0; c < cols; c++) dst[o + c] = f16(seg, base + 2L * c);
    }

    private static void decodeBf16(MemorySegment seg, long base, int cols, float[] dst, int o) {
        for (int c = 0; c < cols; c++) dst[o + c] = Float.intBitsToFloat((seg.get(SHORT_LE, base + 2L * c) & 0xffff) << 16);
    }

    /**
     * A plain loop, not {@link #q8}: this decodes embedding rows from the mapped GGUF file, and vector loads from a
     * mapped segment pollute the type profile of the JDK's vector load code that the packed kernels share (on native
     * segments), which halved their speed.
     */
    private static void decodeQ8(MemorySegment seg, long base, int cols, float[] dst, int o) {
        for (int b = 0; b < cols / 32; b++) {
            long bo = base + b * 34L;
            float d = f16(seg, bo);
            for (int j = 0; j < 32; j++) dst[o + b * 32 + j] = d * seg.get(ValueLayout.JAVA_BYTE, bo + 2 + j);
        }
    }

    private static void decodeQ4(MemorySegment seg, long base, int cols, float[] dst, int o) {
        for (int b = 0; b < cols / 32; b++) {
            long bo = base + b * 18L;
            FloatVector d = FloatVector.broadcast(F, f16(seg, bo));
            for (int j = 0; j < 16; j += L) {
                q4lo(seg, bo + 2 + j, d).intoArray(dst, o + b * 32 + j);
                q4hi(seg, bo + 2 + j, d).intoArray(dst, o + b * 32 + 16 + j);
            }
        }
    }

    // ---- matvec: one activation vector, four rows at a time -----------------------------------------------------

    /**
     * Rows are taken four at a time from four quarters of {@code [r0, r1)}, so memory is read as four long
     * sequential streams (which the hardware prefetcher follows) rather than four adjacent short rows.
     */
    @Override
    public void matvec(WeightMatrix w, int r0, int r1, float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        int q = (r1 - r0 + 3) / 4;
        float[] acc = new float[4 * L + 4];
        for (int i = 0; i < q; i++) {
            int ra = r0 + i, rb = ra + q, rc = rb + q, rd = rc + q;
            // rows past r1 repeat row ra: each row's chain is independent, so results do not change; only valid rows are stored
            int valid = (rb < r1 ? 2 : 1) + (rc < r1 ? 1 : 0) + (rd < r1 ? 1 : 0);
            if (rb >= r1) rb = ra;
            if (rc >= r1) rc = ra;
            if (rd >= r1) rd = ra;
            switch (w.type()) {
                case F32 -> dot4F32(w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate, acc);
                case F16 -> dot4F16(w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate, acc);
                case BF16 -> dot4Bf16(w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate, acc);
                case Q8_0 -> dot4Q8(w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate, acc);
                case Q4_0 -> dot4Q4(w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate, acc);
                default -> throw new UnsupportedTensorTypeException(w.name(), w.type());
            }
        }
    }

    /** Stores the dot product of row {@code row} from its lane sum (plus the columns past the last lane chunk). */
    private static void finish(float s, WeightMatrix w, int row, float[] x, int xOff, float[] y, int yOff,
                               boolean accumulate) {
        for (int c = w.cols() - w.cols() % L; c < w.cols(); c++) s = Math.fma(w.get(row, c), x[xOff + c], s);
        y[yOff + row] = accumulate ? y[yOff + row] + s : s;
    }

    /** Stores rows a, b, c, d; {@code valid} counts the distinct ones (a always, then b, c, d in that order). */
    private static void finish4(float[] sums, int o, WeightMatrix w, int ra, int rb, int rc, int rd, int valid,
                                float[] x, int xOff, float[] y, int yOff, boolean accumulate) {
        finish(sums[o], w, ra, x, xOff, y, yOff, accumulate);
        if (valid > 1) finish(sums[o + 1], w, rb, x, xOff, y, yOff, accumulate);
        if (valid > 2) finish(sums[o + 2], w, rc, x, xOff, y, yOff, accumulate);
        if (valid > 3) finish(sums[o + 3], w, rd, x, xOff, y, yOff, accumulate);
    }

    private static void dot4F32(WeightMatrix w, int ra, int rb, int rc, int rd, int valid, float[] x,
                                int xOff, float[] y, int yOff, boolean accumulate, float[] acc) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        long o0 = ra * rowBytes, o1 = rb * rowBytes, o2 = rc * rowBytes, o3 = rd * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int n = w.cols() - w.cols() % L;
        for (int c = 0; c < n; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
            long off = 4L * c;
            a0 = FloatVector.fromMemorySegment(F, seg, o0 + off, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, seg, o1 + off, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, seg, o2 + off, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, seg, o3 + off, LE).fma(xv, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        reduce4(acc, 0, acc, 4 * L);
        finish4(acc, 4 * L, w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate);
    }

    private static void dot4F16(WeightMatrix w, int ra, int rb, int rc, int rd, int valid, float[] x,
                                int xOff, float[] y, int yOff, boolean accumulate, float[] acc) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        long o0 = ra * rowBytes, o1 = rb * rowBytes, o2 = rc * rowBytes, o3 = rd * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int n = w.cols() - w.cols() % L;
        // the exact half conversion written out: four calls of a helper per iteration make the method too big for the
        // JIT to inline them, and a vector passed through a call that is not inlined gets boxed
        for (int c = 0; c < n; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
            long off = 2L * c;
            IntVector h0 = (IntVector) ShortVector.fromMemorySegment(S, seg, o0 + off, LE).convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
            IntVector h1 = (IntVector) ShortVector.fromMemorySegment(S, seg, o1 + off, LE).convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
            IntVector h2 = (IntVector) ShortVector.fromMemorySegment(S, seg, o2 + off, LE).convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
            IntVector h3 = (IntVector) ShortVector.fromMemorySegment(S, seg, o3 + off, LE).convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
            IntVector e0 = h0.and(0x7fff), s0 = e0.lanewise(VectorOperators.LSHL, 13);
            IntVector b0 = s0.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(s0.or(0x70000000), e0.compare(VectorOperators.GE, 0x7c00))
                    .or(h0.and(0x8000).lanewise(VectorOperators.LSHL, 16));
            IntVector e1 = h1.and(0x7fff), s1 = e1.lanewise(VectorOperators.LSHL, 13);
            IntVector b1 = s1.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(s1.or(0x70000000), e1.compare(VectorOperators.GE, 0x7c00))
                    .or(h1.and(0x8000).lanewise(VectorOperators.LSHL, 16));
            IntVector e2 = h2.and(0x7fff), s2 = e2.lanewise(VectorOperators.LSHL, 13);
            IntVector b2 = s2.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(s2.or(0x70000000), e2.compare(VectorOperators.GE, 0x7c00))
                    .or(h2.and(0x8000).lanewise(VectorOperators.LSHL, 16));
            IntVector e3 = h3.and(0x7fff), s3 = e3.lanewise(VectorOperators.LSHL, 13);
            IntVector b3 = s3.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                    .blend(s3.or(0x70000000), e3.compare(VectorOperators.GE, 0x7c00))
                    .or(h3.and(0x8000).lanewise(VectorOperators.LSHL, 16));
            a0 = b0.reinterpretAsFloats().fma(xv, a0);
            a1 = b1.reinterpretAsFloats().fma(xv, a1);
            a2 = b2.reinterpretAsFloats().fma(xv, a2);
            a3 = b3.reinterpretAsFloats().fma(xv, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        reduce4(acc, 0, acc, 4 * L);
        finish4(acc, 4 * L, w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate);
    }

    private static void dot4Bf16(WeightMatrix w, int ra, int rb, int rc, int rd, int valid, float[] x,
                                 int xOff, float[] y, int yOff, boolean accumulate, float[] acc) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        long o0 = ra * rowBytes, o1 = rb * rowBytes, o2 = rc * rowBytes, o3 = rd * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int n = w.cols() - w.cols() % L;
        for (int c = 0; c < n; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
            long off = 2L * c;
            a0 = bf16x(seg, o0 + off).fma(xv, a0);
            a1 = bf16x(seg, o1 + off).fma(xv, a1);
            a2 = bf16x(seg, o2 + off).fma(xv, a2);
            a3 = bf16x(seg, o3 + off).fma(xv, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        reduce4(acc, 0, acc, 4 * L);
        finish4(acc, 4 * L, w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate);
    }

    private static void dot4Q8(WeightMatrix w, int ra, int rb, int rc, int rd, int valid, float[] x,
                               int xOff, float[] y, int yOff, boolean accumulate, float[] acc) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        long o0 = ra * rowBytes, o1 = rb * rowBytes, o2 = rc * rowBytes, o3 = rd * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int blocks = w.cols() / 32;
        for (int b = 0; b < blocks; b++) {
            long bo = b * 34L;
            FloatVector d0 = FloatVector.broadcast(F, f16(seg, o0 + bo));
            FloatVector d1 = FloatVector.broadcast(F, f16(seg, o1 + bo));
            FloatVector d2 = FloatVector.broadcast(F, f16(seg, o2 + bo));
            FloatVector d3 = FloatVector.broadcast(F, f16(seg, o3 + bo));
            for (int j = 0; j < 32; j += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + b * 32 + j);
                long q = bo + 2 + j;
                a0 = q8(seg, o0 + q, d0).fma(xv, a0);
                a1 = q8(seg, o1 + q, d1).fma(xv, a1);
                a2 = q8(seg, o2 + q, d2).fma(xv, a2);
                a3 = q8(seg, o3 + q, d3).fma(xv, a3);
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        reduce4(acc, 0, acc, 4 * L);
        finish4(acc, 4 * L, w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate);
    }

    private static void dot4Q4(WeightMatrix w, int ra, int rb, int rc, int rd, int valid, float[] x,
                               int xOff, float[] y, int yOff, boolean accumulate, float[] acc) {
        MemorySegment seg = w.data();
        long rowBytes = w.rowBytes();
        long o0 = ra * rowBytes, o1 = rb * rowBytes, o2 = rc * rowBytes, o3 = rd * rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int blocks = w.cols() / 32;
        // nibbles decoded in place (int lanes), not through q4lo/q4hi: see dot4F16
        for (int b = 0; b < blocks; b++) {
            long bo = b * 18L;
            FloatVector d0 = FloatVector.broadcast(F, f16(seg, o0 + bo));
            FloatVector d1 = FloatVector.broadcast(F, f16(seg, o1 + bo));
            FloatVector d2 = FloatVector.broadcast(F, f16(seg, o2 + bo));
            FloatVector d3 = FloatVector.broadcast(F, f16(seg, o3 + bo));
            for (int j = 0; j < 16; j += L) {
                long q = bo + 2 + j;
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, seg, o0 + q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, seg, o1 + q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, seg, o2 + q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, seg, o3 + q, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                // column order: elements j.. (low nibbles) then 16 + j.. (high nibbles); for L = 16 that is the
                // order gemm sees, for L = 8 see the two-pass loop in dequantize (same order: j = 0, 8, then 16, 24)
                FloatVector xl = FloatVector.fromArray(F, x, xOff + b * 32 + j);
                a0 = ((FloatVector) q0.and(0xf).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d0).fma(xl, a0);
                a1 = ((FloatVector) q1.and(0xf).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d1).fma(xl, a1);
                a2 = ((FloatVector) q2.and(0xf).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d2).fma(xl, a2);
                a3 = ((FloatVector) q3.and(0xf).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d3).fma(xl, a3);
                if (L == 16) {
                    FloatVector xh = FloatVector.fromArray(F, x, xOff + b * 32 + 16);
                    a0 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d0).fma(xh, a0);
                    a1 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d1).fma(xh, a1);
                    a2 = ((FloatVector) q2.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d2).fma(xh, a2);
                    a3 = ((FloatVector) q3.lanewise(VectorOperators.LSHR, 4).sub(8).convertShape(VectorOperators.I2F, F, 0)).mul(d3).fma(xh, a3);
                }
            }
            if (L == 8) {
                for (int j = 0; j < 16; j += L) {
                    long q = bo + 2 + j;
                    FloatVector xh = FloatVector.fromArray(F, x, xOff + b * 32 + 16 + j);
                    a0 = q4hi(seg, o0 + q, d0).fma(xh, a0);
                    a1 = q4hi(seg, o1 + q, d1).fma(xh, a1);
                    a2 = q4hi(seg, o2 + q, d2).fma(xh, a2);
                    a3 = q4hi(seg, o3 + q, d3).fma(xh, a3);
                }
            }
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        reduce4(acc, 0, acc, 4 * L);
        finish4(acc, 4 * L, w, ra, rb, rc, rd, valid, x, xOff, y, yOff, accumulate);
    }

    // ---- gemm: decoded tile x batch ------------------------------------------------------------------------------

    @Override
    public void gemm(float[] tile, int rows, int cols, int rowBase, float[] x, int b0, int b1, float[] y, int ldy,
                     boolean accumulate) {
        float[] acc = new float[16 * L + 16];
        for (int r = 0; r < rows; r += 4) {
            int valid = Math.min(4, rows - r);
            int t0 = r * cols, t1 = (r + Math.min(1, valid - 1)) * cols;
            int t2 = (r + Math.min(2, valid - 1)) * cols, t3 = (r + valid - 1) * cols;
            int b = b0;
            for (; b + 4 <= b1; b += 4) {
                gemm4x4(tile, t0, t1, t2, t3, valid, cols, rowBase + r, x, b, y, ldy, accumulate, acc);
            }
            for (; b < b1; b++) gemm4x1(tile, t0, t1, t2, t3, valid, cols, rowBase + r, x, b, y, ldy, accumulate, acc);
        }
    }

    private static void gemm4x4(float[] w, int t0, int t1, int t2, int t3, int valid, int cols, int row, float[] x,
                                int b, float[] y, int ldy, boolean accumulate, float[] acc) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a30 = z, a31 = z, a32 = z, a33 = z;
        int x0 = b * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        int n = cols - cols % L;
        for (int c = 0; c < n; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c);
            FloatVector v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c);
            FloatVector v3 = FloatVector.fromArray(F, x, x3 + c);
            FloatVector w0 = FloatVector.fromArray(F, w, t0 + c);
            a00 = w0.fma(v0, a00); a01 = w0.fma(v1, a01); a02 = w0.fma(v2, a02); a03 = w0.fma(v3, a03);
            FloatVector w1 = FloatVector.fromArray(F, w, t1 + c);
            a10 = w1.fma(v0, a10); a11 = w1.fma(v1, a11); a12 = w1.fma(v2, a12); a13 = w1.fma(v3, a13);
            FloatVector w2 = FloatVector.fromArray(F, w, t2 + c);
            a20 = w2.fma(v0, a20); a21 = w2.fma(v1, a21); a22 = w2.fma(v2, a22); a23 = w2.fma(v3, a23);
            FloatVector w3 = FloatVector.fromArray(F, w, t3 + c);
            a30 = w3.fma(v0, a30); a31 = w3.fma(v1, a31); a32 = w3.fma(v2, a32); a33 = w3.fma(v3, a33);
        }
        // accumulators of item j at acc[4L*j ..] in row order, then the 16 sums at acc[16L ..]
        a00.intoArray(acc, 0); a10.intoArray(acc, L); a20.intoArray(acc, 2 * L); a30.intoArray(acc, 3 * L);
        a01.intoArray(acc, 4 * L); a11.intoArray(acc, 5 * L); a21.intoArray(acc, 6 * L); a31.intoArray(acc, 7 * L);
        a02.intoArray(acc, 8 * L); a12.intoArray(acc, 9 * L); a22.intoArray(acc, 10 * L); a32.intoArray(acc, 11 * L);
        a03.intoArray(acc, 12 * L); a13.intoArray(acc, 13 * L); a23.intoArray(acc, 14 * L); a33.intoArray(acc, 15 * L);
        int s = 16 * L;
        for (int j = 0; j < 4; j++) {
            reduce4(acc, 4 * L * j, acc, s + 4 * j);
            int xo = x0 + j * cols, at = (b + j) * ldy + row;
            store(acc[s + 4 * j], w, t0, x, xo, n, cols, y, at, accumulate);
            if (valid > 1) store(acc[s + 4 * j + 1], w, t1, x, xo, n, cols, y, at + 1, accumulate);
            if (valid > 2) store(acc[s + 4 * j + 2], w, t2, x, xo, n, cols, y, at + 2, accumulate);
            if (valid > 3) store(acc[s + 4 * j + 3], w, t3, x, xo, n, cols, y, at + 3, accumulate);
        }
    }

    private static void gemm4x1(float[] w, int t0, int t1, int t2, int t3, int valid, int cols, int row, float[] x,
                                int b, float[] y, int ldy, boolean accumulate, float[] acc) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int x0 = b * cols;
        int n = cols - cols % L;
        for (int c = 0; c < n; c += L) {
            FloatVector v = FloatVector.fromArray(F, x, x0 + c);
            a0 = FloatVector.fromArray(F, w, t0 + c).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, t1 + c).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, t2 + c).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, t3 + c).fma(v, a3);
        }
        a0.intoArray(acc, 0);
        a1.intoArray(acc, L);
        a2.intoArray(acc, 2 * L);
        a3.intoArray(acc, 3 * L);
        int s = 4 * L;
        reduce4(acc, 0, acc, s);
        int at = b * ldy + row;
        store(acc[s], w, t0, x, x0, n, cols, y, at, accumulate);
        if (valid > 1) store(acc[s + 1], w, t1, x, x0, n, cols, y, at + 1, accumulate);
        if (valid > 2) store(acc[s + 2], w, t2, x, x0, n, cols, y, at + 2, accumulate);
        if (valid > 3) store(acc[s + 3], w, t3, x, x0, n, cols, y, at + 3, accumulate);
    }

    /** Adds the columns past the last full lane chunk to a lane sum and stores it. */
    private static void store(float s, float[] w, int t, float[] x, int xo, int n, int cols, float[] y, int at,
                              boolean accumulate) {
        for (int c = n; c < cols; c++) s = Math.fma(w[t + c], x[xo + c], s);
        y[at] = accumulate ? y[at] + s : s;
    }

    // ---- element-wise -----------------------------------------------------------------------------------------

    @Override
    public void rmsnorm(float[] x, int xOff, float[] weight, float[] out, int outOff, int n, float eps) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOff + i);
            acc = v.fma(v, acc);
        }
        double ss = sum(acc);
        for (; i < n; i++) ss += x[xOff + i] * x[xOff + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        for (; i + L <= n; i += L) {
            FloatVector.fromArray(F, x, xOff + i).mul(scale).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, outOff + i);
        }
        for (; i < n; i++) out[outOff + i] = x[xOff + i] * scale * weight[i];
    }

    @Override
    public void siluMul(float[] gate, float[] up, int off, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector g = FloatVector.fromArray(F, gate, off + i, m);
            FloatVector silu = g.div(exp(g.neg()).add(1f));
            silu.mul(FloatVector.fromArray(F, up, off + i, m)).intoArray(gate, off + i, m);
        }
    }

    @Override
    public void attentionScores(float[] q, int qOff, MemorySegment keys, long[] blocks, int blockSize, int count,
                                int headDim, boolean f16, float scale, float[] out) {
        VectorAttention.scores(q, qOff, keys, blocks, blockSize, count, headDim, f16, scale, out, 0);
    }

    @Override
    public void groupAttentionScores(float[] q, int qOff, int heads, MemorySegment keys, long[] blocks, int blockSize,
                                     int count, int headDim, boolean f16, float scale, float[] out, int outStride) {
        VectorAttention.groupScores(q, qOff, heads, keys, blocks, blockSize, count, headDim, f16, scale, out, outStride);
    }

    @Override
    public void attentionValues(float[] weights, int wOff, int wStride, int heads, MemorySegment values,
                                long[] offsets, int count, int headDim, boolean f16, float[] out, int outOff) {
        VectorAttention.values(weights, wOff, wStride, heads, values, offsets, count, headDim, f16, out, outOff);
    }

    @Override
    public boolean readsF16InPlace() {
        return true;
    }

    @Override
    public void decodeRows(MemorySegment kv, long[] offsets, int count, int headDim, boolean f16, float[] dst,
                           int dstOff) {
        VectorAttention.decodeRows(kv, offsets, count, headDim, f16, dst, dstOff);
    }

    @Override
    public void attentionValuesStaged(float[] weights, int wOff, int wStride, int heads, float[] values,
                                      int valuesOff, int count, int headDim, float[] out, int outOff) {
        VectorAttention.valuesStaged(weights, wOff, wStride, heads, values, valuesOff, count, headDim, out, outOff);
    }

    @Override
    public boolean stagesKeys(int headDim) {
        return VectorAttention.stages(headDim);
    }

    @Override
    public void stageKeys(MemorySegment keys, long[] blocks, int blockSize, int count, int headDim, boolean f16,
                          float[] dst, int dstOff) {
        VectorAttention.stageKeys(keys, blocks, blockSize, count, headDim, f16, dst, dstOff);
    }

    @Override
    public void attentionScoresStaged(float[] q, int[] qOff, int[] counts, int rows, float[] keys, int keysOff,
                                      int headDim, float scale, float[] out, int outOff, int outStride) {
        VectorAttention.scoresStaged(q, qOff, counts, rows, keys, keysOff, headDim, scale, out, outOff, outStride);
    }

    // ---- exp, softmax, SiLU ---------------------------------------------------------------------------------------

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUNDER = 12582912f; // 1.5 * 2^23: adding it rounds to an integer in the low bits

    /**
     * e^x for x in [-87.3, 88] (clamped outside), within about 2 ulp: n = round(x / ln 2), a degree-6 polynomial for
     * e^r with r = x - n ln 2, times 2^n. Built only from IEEE lane operations, so the bits are the same in
     * interpreted and compiled code (the Vector API's own EXP may differ between the two).
     */
    static FloatVector exp(FloatVector x) {
        // clamped by compare and blend: the same values as max and min, whose NaN and signed-zero rules cost C2 a
        // longer sequence per call (the softmax ran 10 % faster this way)
        x = x.blend(-87.3f, x.compare(VectorOperators.LT, -87.3f));
        x = x.blend(88f, x.compare(VectorOperators.GT, 88f));
        FloatVector t = x.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        FloatVector r = n.fma(c(-LN2_HI), x);
        r = n.fma(c(-LN2_LO), r);
        FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
        p = p.fma(r, c(8.3334519073e-3f));
        p = p.fma(r, c(4.1665795894e-2f));
        p = p.fma(r, c(1.6666665459e-1f));
        p = p.fma(r, c(5.0000001201e-1f));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        IntVector bits = t.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUNDER)).add(127).lanewise(VectorOperators.LSHL, 23);
        return y.mul(bits.reinterpretAsFloats());
    }

    private static FloatVector c(float v) {
        return FloatVector.broadcast(F, v);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(F, x, off + i, m);
            // a greater lane by compare and blend, cheaper than max (NaN scores make every output NaN either way)
            mv = mv.blend(v, v.compare(VectorOperators.GT, mv).and(m));
        }
        FloatVector max = FloatVector.broadcast(F, mv.reduceLanes(VectorOperators.MAX)); // exact in any order
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector e = exp(FloatVector.fromArray(F, x, off + i, m).sub(max));
            e.intoArray(x, off + i, m);
            acc = acc.add(e, m);
        }
        float inv = 1f / sum(acc);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = F.indexInRange(i, n);
            FloatVector.fromArray(F, x, off + i, m).mul(inv).intoArray(x, off + i, m);
        }
    }
}
