package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static io.tandem.engine.kernels.WeightMatrix.FLOAT_LE;
import static io.tandem.engine.kernels.WeightMatrix.SHORT_LE;

/**
 * The vector kernels on {@link PanelMatrix} weights. Numerics: output row {@code r} of item {@code x} is
 * {@code acc = fma(d_k[r], s_k, acc)} over the 32-column blocks {@code k} in order from {@code acc = 0}, where
 * {@code s_k} is one sequential fused-multiply-add chain {@code s = fma(v[r][c], x[c], s)} over the block's columns
 * from {@code s = 0}. For Q8_0, {@code v} is the int8 value and {@code d_k[r]} the block's scale (applied once per
 * block: one conversion and one FMA per weight); for the other types {@code v} is the weight and {@code d = 1}, so
 * the step is {@code acc + s_k}. The chains of a panel's rows run side by side in one vector, so there are no
 * horizontal reductions, and
 * the single-item path ({@link #matvec}) and the batched one ({@link #gemm}) compute the same chain: every output has
 * the same bits whatever the batch. It is also the chain of {@link ScalarKernels}.
 */
final class PanelKernels {
    private static final VectorSpecies<Float> F = VectorKernels.floatSpecies();
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Bytes per row of a Q8_0 panel block: an f32 scale and 32 int8 values. */
    private static final int Q8_BLOCK_BYTES = 36;
    private static final VarHandle Q8_SCALE = MethodHandles.byteArrayViewVarHandle(float[].class, LE);
    /** Panels whose chains run together in {@link #matvec} (independent chains hide the FMA latency). */
    private static final int GROUP = 4;
    /** Columns decoded at a time by {@link #matvec} for the non-F32 types (a multiple of 32; L1-sized). */
    static final int CHUNK = 128;
    /**
     * Columns summed in one inner chain: an output is the sum, in column order, of the chains of its 32-column
     * blocks (two levels, so rounding grows with 32 + cols/32 terms rather than cols).
     */
    static final int BLOCK = 32;
    /** Panels of one {@link #gemm} tile. */
    static final int TILE_PANELS = 4;

    private PanelKernels() {
    }

    static boolean packs(GgufTensorType type) {
        return switch (type) {
            case F32, F16, BF16, Q8_0 -> true;
            default -> false;
        };
    }

    /** Floats of per-worker scratch {@link #matvec} and {@link #gemm} need. */
    static int scratchFloats() {
        return GROUP * CHUNK * L + 16 * L;
    }

    // ---- packing --------------------------------------------------------------------------------------------------

    static PanelMatrix pack(WeightMatrix w) {
        int rows = w.rows(), cols = w.cols();
        int panels = (rows + L - 1) / L;
        long panelBytes = switch (w.type()) {
            case F32 -> 4L * L * cols;
            case F16, BF16 -> 2L * L * cols;
            case Q8_0 -> cols / 32 * Q8_BLOCK_BYTES * L;
            default -> throw new UnsupportedTensorTypeException(w.name(), w.type());
        };
        boolean finite = true;
        // zeroed: rows past the last one stay 0 (Q8_0: scale 0)
        MemorySegment dst = Arena.ofAuto().allocate(panelBytes * panels, 64);
        // a panel's rows are contiguous in the GGUF data: copy them out at once, transpose on the heap, copy back
        switch (w.type()) {
            case F32, F16, BF16 -> {
                // moved as 16-bit units, an F32 weight being two in order: the bytes are only moved
                int k = w.type() == GgufTensorType.F32 ? 2 : 1;
                short[] in = new short[L * cols * k], out = new short[L * cols * k];
                for (int p = 0; p < panels; p++) {
                    int n = Math.min(L, rows - p * L);
                    if (n < L) java.util.Arrays.fill(out, (short) 0); // the lanes past the last row
                    MemorySegment.copy(w.data(), SHORT_LE, (long) p * L * w.rowBytes(), in, 0, n * cols * k);
                    for (int lane = 0; lane < n; lane++) {
                        for (int c = 0; c < cols; c++) {
                            for (int u = 0; u < k; u++) out[(c * L + lane) * k + u] = in[(lane * cols + c) * k + u];
                        }
                    }
                    if (w.type() == GgufTensorType.F16) {
                        for (int i = 0; i < n * cols; i++) finite &= (in[i] & 0x7c00) != 0x7c00;
                    }
                    MemorySegment.copy(out, 0, dst, SHORT_LE, p * panelBytes, out.length);
                }
            }
            case Q8_0 -> {
                int rowBytes = Math.toIntExact(w.rowBytes());
                byte[] in = new byte[L * rowBytes], out = new byte[Math.toIntExact(panelBytes)];
                for (int p = 0; p < panels; p++) {
                    int n = Math.min(L, rows - p * L);
                    MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) p * L * rowBytes, in, 0, n * rowBytes);
                    transposeQ8(in, n, cols, rowBytes, out);
                    MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, p * panelBytes, out.length);
                }
            }
            default -> throw new AssertionError(w.type());
        }
        return new PanelMatrix(w, L, panels, panelBytes, dst, finite);
    }

    /**
     * Q8_0 rows to a panel: per block, the rows' scales widened to f32 (exactly), then per column the rows' int8
     * values.
     */
    private static void transposeQ8(byte[] in, int n, int cols, int rowBytes, byte[] out) {
        if (n < L) java.util.Arrays.fill(out, (byte) 0);
        for (int lane = 0; lane < n; lane++) {
            for (int b = 0; b < cols / 32; b++) {
                int i = lane * rowBytes + 34 * b, o = Q8_BLOCK_BYTES * L * b;
                float scale = Float.float16ToFloat((short) ((in[i] & 0xff) | in[i + 1] << 8));
                Q8_SCALE.set(out, o + 4 * lane, scale);
                for (int j = 0; j < 32; j++) out[o + 4 * L + j * L + lane] = in[i + 2 + j];
            }
        }
    }

    // ---- decoding -------------------------------------------------------------------------------------------------

    /**
     * Columns {@code [c0, c1)} of panel {@code p} as floats, {@code dst[dOff + (c - c0) * L + lane]}: the weights, or
     * for Q8_0 the int8 values without their block scales (which {@link #gemm} reads from the panel).
     */
    static void decode(PanelMatrix w, int p, int c0, int c1, float[] dst, int dOff) {
        MemorySegment s = w.data();
        long po = p * w.panelBytes();
        switch (w.source().type()) {
            case F32 -> MemorySegment.copy(s, FLOAT_LE, po + 4L * L * c0, dst, dOff, (c1 - c0) * L);
            case F16 -> decodeF16(s, po, c0, c1, dst, dOff);
            case BF16 -> decodeBf16(s, po, c0, c1, dst, dOff);
            case Q8_0 -> decodeQ8(s, po, c0, c1, dst, dOff);
            default -> throw new UnsupportedTensorTypeException(w.source().name(), w.source().type());
        }
    }

    // Plain loops: C2 vectorizes them (half -> float with vcvtph2ps), where the Vector API's bit manipulation (an
    // exact conversion with masks and a blend) is slower: written out in the F16 matvec it took 2.2x as long
    // (docs/BENCHMARKS.md)

    private static void decodeF16(MemorySegment s, long po, int c0, int c1, float[] dst, int dOff) {
        long from = po + 2L * L * c0;
        int n = (c1 - c0) * L;
        for (int i = 0; i < n; i++) dst[dOff + i] = Float.float16ToFloat(s.get(SHORT_LE, from + 2L * i));
    }

    private static void decodeBf16(MemorySegment s, long po, int c0, int c1, float[] dst, int dOff) {
        long from = po + 2L * L * c0;
        int n = (c1 - c0) * L;
        for (int i = 0; i < n; i++) dst[dOff + i] = Float.intBitsToFloat((s.get(SHORT_LE, from + 2L * i) & 0xffff) << 16);
    }

    /** The int8 values, unscaled; {@code c0} and {@code c1} are multiples of 32. */
    private static void decodeQ8(MemorySegment s, long po, int c0, int c1, float[] dst, int dOff) {
        for (int b = c0 / 32; b < c1 / 32; b++) {
            long bo = po + Q8_BLOCK_BYTES * L * b;
            int o = dOff + (b * 32 - c0) * L;
            for (int j = 0; j < 32; j++) q8(s, bo + 4L * L + (long) j * L).intoArray(dst, o + j * L);
        }
    }

    /** L int8 values at {@code off} as floats. */
    private static FloatVector q8(MemorySegment s, long off) {
        return (FloatVector) ByteVector.fromMemorySegment(B, s, off, LE).convertShape(VectorOperators.B2F, F, 0);
    }

    /**
     * The scales of Q8_0 block {@code b} of the panel at byte {@code po}: a plain load, which C2 always inlines (a
     * half-to-float conversion here was a call C2 would not inline into the kernels, and each vector it returned was
     * allocated on the heap: 147 KB per 768 x 768 matvec).
     */
    private static FloatVector q8Scale(MemorySegment s, long po, int b) {
        return scales(s, po + Q8_BLOCK_BYTES * L * b);
    }

    /** L block scales (floats) at byte {@code at} of {@code s}: the same plain load. */
    private static FloatVector scales(MemorySegment s, long at) {
        return FloatVector.fromMemorySegment(F, s, at, LE);
    }

    // ---- matvec: one item, GROUP panels at a time -----------------------------------------------------------------

    /** {@code y[yOff + r] (+)= W[r] · x[xOff ..]} for the rows of panels {@code [p0, p1)}. */
    static void matvec(PanelMatrix w, int p0, int p1, float[] x, int xOff, float[] y, int yOff, boolean accumulate,
                       float[] scratch) {
        switch (w.source().type()) {
            case F32 -> {
                matvecF32(w, p0, p1, x, xOff, y, yOff, accumulate, scratch);
                return;
            }
            case Q8_0 -> {
                matvecQ8(w, p0, p1, x, xOff, y, yOff, accumulate, scratch);
                return;
            }
            case F16 -> {
                if (w.finite() && belowF16Scale(x, xOff, w.cols())) {
                    matvecF16(w, p0, p1, x, xOff, y, yOff, accumulate, scratch);
                    return;
                }
            }
            default -> {
            }
        }
        int cols = w.cols();
        int acc = GROUP * CHUNK * L;
        for (int p = p0; p < p1; p += GROUP) {
            int g = Math.min(GROUP, p1 - p);
            java.util.Arrays.fill(scratch, acc, acc + GROUP * L, 0f);
            for (int c0 = 0; c0 < cols; c0 += CHUNK) {
                int c1 = Math.min(cols, c0 + CHUNK);
                for (int i = 0; i < g; i++) decode(w, p + i, c0, c1, scratch, i * CHUNK * L);
                chains4(scratch, CHUNK * L, g, c1 - c0, x, xOff + c0, scratch, acc);
            }
            store(scratch, acc, g, p * L, w.rows(), y, yOff, accumulate);
        }
    }

    /**
     * Continues the chains of four panels (held at {@code acc[ao ..]}, L floats each) over {@code k} decoded columns
     * ({@code t[i * stride + c * L ..]} for panel {@code i}); panels past {@code g} repeat panel 0 and are ignored.
     */
    private static void chains4(float[] t, int stride, int g, int k, float[] x, int xo, float[] acc, int ao) {
        int t0 = 0, t1 = Math.min(1, g - 1) * stride, t2 = Math.min(2, g - 1) * stride, t3 = (g - 1) * stride;
        FloatVector a0 = FloatVector.fromArray(F, acc, ao), a1 = FloatVector.fromArray(F, acc, ao + L);
        FloatVector a2 = FloatVector.fromArray(F, acc, ao + 2 * L), a3 = FloatVector.fromArray(F, acc, ao + 3 * L);
        for (int c0 = 0; c0 < k; c0 += BLOCK) {
            int c1 = Math.min(k, c0 + BLOCK);
            FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
            for (int c = c0; c < c1; c++) {
                FloatVector xv = FloatVector.broadcast(F, x[xo + c]);
                int o = c * L;
                s0 = FloatVector.fromArray(F, t, t0 + o).fma(xv, s0);
                s1 = FloatVector.fromArray(F, t, t1 + o).fma(xv, s1);
                s2 = FloatVector.fromArray(F, t, t2 + o).fma(xv, s2);
                s3 = FloatVector.fromArray(F, t, t3 + o).fma(xv, s3);
            }
            a0 = a0.add(s0);
            a1 = a1.add(s1);
            a2 = a2.add(s2);
            a3 = a3.add(s3);
        }
        a0.intoArray(acc, ao);
        a1.intoArray(acc, ao + L);
        a2.intoArray(acc, ao + 2 * L);
        a3.intoArray(acc, ao + 3 * L);
    }

    /** F32 panels are read in place: the columns of four panels stream from memory side by side. */
    private static void matvecF32(PanelMatrix w, int p0, int p1, float[] x, int xOff, float[] y, int yOff,
                                  boolean accumulate, float[] scratch) {
        MemorySegment s = w.data();
        int cols = w.cols();
        long pb = w.panelBytes(), cb = 4L * L;
        for (int p = p0; p < p1; p += GROUP) {
            int g = Math.min(GROUP, p1 - p);
            long o0 = p * pb, o1 = (p + Math.min(1, g - 1)) * pb, o2 = (p + Math.min(2, g - 1)) * pb, o3 = (p + g - 1) * pb;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c0 = 0; c0 < cols; c0 += BLOCK) {
                int c1 = Math.min(cols, c0 + BLOCK);
                FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                for (int c = c0; c < c1; c++) {
                    FloatVector xv = FloatVector.broadcast(F, x[xOff + c]);
                    long o = c * cb;
                    s0 = FloatVector.fromMemorySegment(F, s, o0 + o, LE).fma(xv, s0);
                    s1 = FloatVector.fromMemorySegment(F, s, o1 + o, LE).fma(xv, s1);
                    s2 = FloatVector.fromMemorySegment(F, s, o2 + o, LE).fma(xv, s2);
                    s3 = FloatVector.fromMemorySegment(F, s, o3 + o, LE).fma(xv, s3);
                }
                a0 = a0.add(s0);
                a1 = a1.add(s1);
                a2 = a2.add(s2);
                a3 = a3.add(s3);
            }
            a0.intoArray(scratch, 0);
            a1.intoArray(scratch, L);
            a2.intoArray(scratch, 2 * L);
            a3.intoArray(scratch, 3 * L);
            store(scratch, 0, g, p * L, w.rows(), y, yOff, accumulate);
        }
    }

    /** {@code 2^112}: a half's bits shifted into a float's place (exponent bias 15 in 127) read 2^-112 of its value. */
    static final float TWO_112 = 0x1p112f;

    /**
     * Whether every {@code |x[c]| < 2^16} (NaN aside), so that {@code x[c] * 2^112} is exact and finite for
     * {@link #matvecF16} and for F16 attention read in place ({@code VectorAttention}). A NaN makes every output NaN
     * on either path.
     */
    static boolean belowF16Scale(float[] x, int xOff, int cols) {
        boolean below = true;
        for (int c = 0; c < cols; c++) below &= !(Math.abs(x[xOff + c]) >= 65536f);
        return below;
    }

    /**
     * F16 panels read in place, four side by side, each half widened in registers: sign-extended to 32 bits, shifted
     * to a float's exponent and mantissa place and masked to sign, exponent and mantissa, which reads as
     * {@code 2^-112} times the half's value for every finite half, subnormals included; the {@code 2^112} goes into
     * the activation instead ({@link #belowF16Scale}), so the fma's exact product and the result are the bits of
     * the decoding path. Infinities and NaNs would read as large finite numbers: matrices holding one take the
     * decoding path ({@link PanelMatrix#finite()}). Measured against that path (decode 128 columns to L1 with
     * {@code vcvtph2ps}, then multiply): 2x the weights per second on a 16384 x 768 matrix, 2 threads, Zen 5.
     */
    private static void matvecF16(PanelMatrix w, int p0, int p1, float[] x, int xOff, float[] y, int yOff,
                                  boolean accumulate, float[] scratch) {
        MemorySegment s = w.data();
        int cols = w.cols();
        long pb = w.panelBytes(), cb = 2L * L;
        for (int p = p0; p < p1; p += GROUP) {
            int g = Math.min(GROUP, p1 - p);
            long o0 = p * pb, o1 = (p + Math.min(1, g - 1)) * pb, o2 = (p + Math.min(2, g - 1)) * pb, o3 = (p + g - 1) * pb;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int c0 = 0; c0 < cols; c0 += BLOCK) {
                int c1 = Math.min(cols, c0 + BLOCK);
                FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                for (int c = c0; c < c1; c++) {
                    FloatVector xv = FloatVector.broadcast(F, x[xOff + c] * TWO_112);
                    long o = c * cb;
                    // the widening written out per panel: in a helper C2 may not inline, the vector would be boxed
                    s0 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, s, o0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats()).fma(xv, s0);
                    s1 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, s, o1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats()).fma(xv, s1);
                    s2 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, s, o2 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats()).fma(xv, s2);
                    s3 = ((FloatVector) ((IntVector) ShortVector.fromMemorySegment(H, s, o3 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                            .lanewise(VectorOperators.LSHL, 13).and(0x8fffe000).reinterpretAsFloats()).fma(xv, s3);
                }
                a0 = a0.add(s0);
                a1 = a1.add(s1);
                a2 = a2.add(s2);
                a3 = a3.add(s3);
            }
            a0.intoArray(scratch, 0);
            a1.intoArray(scratch, L);
            a2.intoArray(scratch, 2 * L);
            a3.intoArray(scratch, 3 * L);
            store(scratch, 0, g, p * L, w.rows(), y, yOff, accumulate);
        }
    }

    /**
     * Q8_0 panels are read in place, four side by side: per block, one chain of {@code int8 x activation} per panel,
     * then the block's scales are applied to the chain with one FMA.
     */
    private static void matvecQ8(PanelMatrix w, int p0, int p1, float[] x, int xOff, float[] y, int yOff,
                                 boolean accumulate, float[] scratch) {
        MemorySegment s = w.data();
        int blocks = w.cols() / 32;
        long pb = w.panelBytes();
        for (int p = p0; p < p1; p += GROUP) {
            int g = Math.min(GROUP, p1 - p);
            long o0 = p * pb, o1 = (p + Math.min(1, g - 1)) * pb, o2 = (p + Math.min(2, g - 1)) * pb, o3 = (p + g - 1) * pb;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < blocks; b++) {
                long qo = Q8_BLOCK_BYTES * L * b + 4L * L;
                int xo = xOff + 32 * b;
                FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                for (int j = 0; j < 32; j++) {
                    FloatVector xv = FloatVector.broadcast(F, x[xo + j]);
                    long o = qo + (long) j * L;
                    s0 = q8(s, o0 + o).fma(xv, s0);
                    s1 = q8(s, o1 + o).fma(xv, s1);
                    s2 = q8(s, o2 + o).fma(xv, s2);
                    s3 = q8(s, o3 + o).fma(xv, s3);
                }
                a0 = q8Scale(s, o0, b).fma(s0, a0);
                a1 = q8Scale(s, o1, b).fma(s1, a1);
                a2 = q8Scale(s, o2, b).fma(s2, a2);
                a3 = q8Scale(s, o3, b).fma(s3, a3);
            }
            a0.intoArray(scratch, 0);
            a1.intoArray(scratch, L);
            a2.intoArray(scratch, 2 * L);
            a3.intoArray(scratch, 3 * L);
            store(scratch, 0, g, p * L, w.rows(), y, yOff, accumulate);
        }
    }

    /** Stores {@code g} panels of results from {@code acc[ao ..]}, rows from {@code row0}, only rows below {@code rows}. */
    private static void store(float[] acc, int ao, int g, int row0, int rows, float[] y, int yOff, boolean accumulate) {
        int n = Math.min(g * L, rows - row0);
        int at = yOff + row0;
        int i = 0;
        for (; i + L <= n; i += L) {
            FloatVector v = FloatVector.fromArray(F, acc, ao + i);
            if (accumulate) v = FloatVector.fromArray(F, y, at + i).add(v);
            v.intoArray(y, at + i);
        }
        for (; i < n; i++) y[at + i] = accumulate ? y[at + i] + acc[ao + i] : acc[ao + i];
    }

    // ---- gemm: a decoded tile of up to TILE_PANELS panels x a batch -----------------------------------------------

    /**
     * Items {@code [b0, b1)} against a tile of {@code tp} (1 to 4) panels of {@code w} {@link #decode}d, the first
     * being panel {@code p} ({@code tile[(i * cols + c) * L + lane]}):
     * {@code y[b * ldy + r] (+)= W[r] · x[b * cols ..]}.
     * Four panels by six items keep 24 accumulators in registers: each weight load serves six items and each
     * broadcast activation four panels (on the Zen 5 VM, without block scales, 90 % of the FMA peak against 76 % for
     * two panels by eight, {@code GemmSpeed}). A tile of fewer panels repeats its last one; those results are not
     * stored.
     */
    static void gemm(PanelMatrix w, float[] tile, int tp, int p, float[] x, int b0, int b1, float[] y, int ldy,
                     boolean accumulate, float[] scratch) {
        int rows = w.rows(), cols = w.cols();
        int row0 = p * L;
        // Q8_0: the block scales stay in the panels; other types read ones (NO_SCALES)
        boolean q8 = w.source().type() == GgufTensorType.Q8_0;
        MemorySegment sc = q8 ? w.data() : NO_SCALES;
        long so = q8 ? p * w.panelBytes() : 0, pb = q8 ? w.panelBytes() : 0, ks = q8 ? Q8_BLOCK_BYTES * L : 0;
        for (int b = b0; b < b1; ) {
            int n = group(b1 - b);
            if (n >= 5) gemm4x6(tile, tp, cols, x, b, b1 - 1, scratch, sc, so, pb, ks);
            else gemm4x4(tile, tp, cols, x, b, b1 - 1, scratch, sc, so, pb, ks);
            for (int j = 0; j < n; j++) store(scratch, 4 * L * j, tp, row0, rows, y, (b + j) * ldy, accumulate);
            b += n;
        }
    }

    /**
     * Items the next group of a batch takes when {@code remaining} are left: 6, the last group 5 (the 6-item kernel)
     * or 1 to 4 (the 4-item kernel). A kernel given fewer items than it takes repeats the last one; those results are
     * not stored. (A short group costs as much as a full one, but only the last group of a batch is short.)
     */
    private static int group(int remaining) {
        return remaining >= 5 ? Math.min(6, remaining) : remaining;
    }

    /**
     * What the tile gemm folds each 32-column block's sums with when the type has no block scales: L ones, read for
     * every panel and block (both strides 0). So the kernels have no branch on the type: with one, a JVM that ran
     * them for Q8_0 and for another type (a model mixing types, or two models) compiled code for both whose Q8_0
     * calls ran about a quarter slower ({@code GemmMixSpeed}, docs/BENCHMARKS.md). Folding by 1 is exact.
     */
    static final MemorySegment NO_SCALES = ones();

    private static MemorySegment ones() {
        MemorySegment s = Arena.ofAuto().allocate(4L * L, 64);
        for (int i = 0; i < L; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1f);
        return s;
    }

    /** Panel {@code i} of a tile of {@code tp}: past the last one, the last one again. */
    private static int panel(int i, int tp) {
        return Math.min(i, tp - 1);
    }

    /**
     * Four panels x items {@code b .. b + 5} (past {@code last}, {@code last} again); results at
     * {@code out[(4 * j + i) * L]} for item j, panel i. Block {@code k}'s sums of panel i are folded with the
     * scales at byte {@code so + i * pb + k * ks} of {@code sc} ({@link #NO_SCALES} and 0s for a type without).
     */
    static void gemm4x6(float[] t, int tp, int cols, float[] x, int b, int last, float[] out, MemorySegment sc,
                        long so, long pb, long ks) {
        int ts = cols * L, t1 = panel(1, tp) * ts, t2 = panel(2, tp) * ts, t3 = panel(3, tp) * ts;
        long so1 = so + panel(1, tp) * pb, so2 = so + panel(2, tp) * pb, so3 = so + panel(3, tp) * pb;
        int x0 = b * cols, x1 = Math.min(b + 1, last) * cols, x2 = Math.min(b + 2, last) * cols;
        int x3 = Math.min(b + 3, last) * cols, x4 = Math.min(b + 4, last) * cols, x5 = Math.min(b + 5, last) * cols;
        java.util.Arrays.fill(out, 0, 24 * L, 0f);
        for (int k0 = 0; k0 < cols; k0 += BLOCK) {
            int k1 = Math.min(cols, k0 + BLOCK);
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
            FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
            FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
            FloatVector d0 = z, d1 = z, d2 = z, d3 = z, d4 = z, d5 = z;
            for (int c = k0; c < k1; c++) {
                int o = c * L;
                FloatVector w0 = FloatVector.fromArray(F, t, o), w1 = FloatVector.fromArray(F, t, t1 + o);
                FloatVector w2 = FloatVector.fromArray(F, t, t2 + o), w3 = FloatVector.fromArray(F, t, t3 + o);
                FloatVector v = FloatVector.broadcast(F, x[x0 + c]);
                a0 = w0.fma(v, a0); b0 = w1.fma(v, b0); c0 = w2.fma(v, c0); d0 = w3.fma(v, d0);
                v = FloatVector.broadcast(F, x[x1 + c]);
                a1 = w0.fma(v, a1); b1 = w1.fma(v, b1); c1 = w2.fma(v, c1); d1 = w3.fma(v, d1);
                v = FloatVector.broadcast(F, x[x2 + c]);
                a2 = w0.fma(v, a2); b2 = w1.fma(v, b2); c2 = w2.fma(v, c2); d2 = w3.fma(v, d2);
                v = FloatVector.broadcast(F, x[x3 + c]);
                a3 = w0.fma(v, a3); b3 = w1.fma(v, b3); c3 = w2.fma(v, c3); d3 = w3.fma(v, d3);
                v = FloatVector.broadcast(F, x[x4 + c]);
                a4 = w0.fma(v, a4); b4 = w1.fma(v, b4); c4 = w2.fma(v, c4); d4 = w3.fma(v, d4);
                v = FloatVector.broadcast(F, x[x5 + c]);
                a5 = w0.fma(v, a5); b5 = w1.fma(v, b5); c5 = w2.fma(v, c5); d5 = w3.fma(v, d5);
            }
            int k = k0 / BLOCK;
            long ko = k * ks;
            FloatVector q0 = scales(sc, so + ko), q1 = scales(sc, so1 + ko);
            FloatVector q2 = scales(sc, so2 + ko), q3 = scales(sc, so3 + ko);
            a0.fma(q0, FloatVector.fromArray(F, out, 0)).intoArray(out, 0);
            b0.fma(q1, FloatVector.fromArray(F, out, L)).intoArray(out, L);
            c0.fma(q2, FloatVector.fromArray(F, out, 2 * L)).intoArray(out, 2 * L);
            d0.fma(q3, FloatVector.fromArray(F, out, 3 * L)).intoArray(out, 3 * L);
            a1.fma(q0, FloatVector.fromArray(F, out, 4 * L)).intoArray(out, 4 * L);
            b1.fma(q1, FloatVector.fromArray(F, out, 5 * L)).intoArray(out, 5 * L);
            c1.fma(q2, FloatVector.fromArray(F, out, 6 * L)).intoArray(out, 6 * L);
            d1.fma(q3, FloatVector.fromArray(F, out, 7 * L)).intoArray(out, 7 * L);
            a2.fma(q0, FloatVector.fromArray(F, out, 8 * L)).intoArray(out, 8 * L);
            b2.fma(q1, FloatVector.fromArray(F, out, 9 * L)).intoArray(out, 9 * L);
            c2.fma(q2, FloatVector.fromArray(F, out, 10 * L)).intoArray(out, 10 * L);
            d2.fma(q3, FloatVector.fromArray(F, out, 11 * L)).intoArray(out, 11 * L);
            a3.fma(q0, FloatVector.fromArray(F, out, 12 * L)).intoArray(out, 12 * L);
            b3.fma(q1, FloatVector.fromArray(F, out, 13 * L)).intoArray(out, 13 * L);
            c3.fma(q2, FloatVector.fromArray(F, out, 14 * L)).intoArray(out, 14 * L);
            d3.fma(q3, FloatVector.fromArray(F, out, 15 * L)).intoArray(out, 15 * L);
            a4.fma(q0, FloatVector.fromArray(F, out, 16 * L)).intoArray(out, 16 * L);
            b4.fma(q1, FloatVector.fromArray(F, out, 17 * L)).intoArray(out, 17 * L);
            c4.fma(q2, FloatVector.fromArray(F, out, 18 * L)).intoArray(out, 18 * L);
            d4.fma(q3, FloatVector.fromArray(F, out, 19 * L)).intoArray(out, 19 * L);
            a5.fma(q0, FloatVector.fromArray(F, out, 20 * L)).intoArray(out, 20 * L);
            b5.fma(q1, FloatVector.fromArray(F, out, 21 * L)).intoArray(out, 21 * L);
            c5.fma(q2, FloatVector.fromArray(F, out, 22 * L)).intoArray(out, 22 * L);
            d5.fma(q3, FloatVector.fromArray(F, out, 23 * L)).intoArray(out, 23 * L);
        }
    }

    /** As {@link #gemm4x6} for items {@code b .. b + 3}. */
    static void gemm4x4(float[] t, int tp, int cols, float[] x, int b, int last, float[] out, MemorySegment sc,
                        long so, long pb, long ks) {
        int ts = cols * L, t1 = panel(1, tp) * ts, t2 = panel(2, tp) * ts, t3 = panel(3, tp) * ts;
        long so1 = so + panel(1, tp) * pb, so2 = so + panel(2, tp) * pb, so3 = so + panel(3, tp) * pb;
        int x0 = b * cols, x1 = Math.min(b + 1, last) * cols, x2 = Math.min(b + 2, last) * cols;
        int x3 = Math.min(b + 3, last) * cols;
        java.util.Arrays.fill(out, 0, 16 * L, 0f);
        for (int k0 = 0; k0 < cols; k0 += BLOCK) {
            int k1 = Math.min(cols, k0 + BLOCK);
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
            FloatVector c0 = z, c1 = z, c2 = z, c3 = z, d0 = z, d1 = z, d2 = z, d3 = z;
            for (int c = k0; c < k1; c++) {
                int o = c * L;
                FloatVector w0 = FloatVector.fromArray(F, t, o), w1 = FloatVector.fromArray(F, t, t1 + o);
                FloatVector w2 = FloatVector.fromArray(F, t, t2 + o), w3 = FloatVector.fromArray(F, t, t3 + o);
                FloatVector v = FloatVector.broadcast(F, x[x0 + c]);
                a0 = w0.fma(v, a0); b0 = w1.fma(v, b0); c0 = w2.fma(v, c0); d0 = w3.fma(v, d0);
                v = FloatVector.broadcast(F, x[x1 + c]);
                a1 = w0.fma(v, a1); b1 = w1.fma(v, b1); c1 = w2.fma(v, c1); d1 = w3.fma(v, d1);
                v = FloatVector.broadcast(F, x[x2 + c]);
                a2 = w0.fma(v, a2); b2 = w1.fma(v, b2); c2 = w2.fma(v, c2); d2 = w3.fma(v, d2);
                v = FloatVector.broadcast(F, x[x3 + c]);
                a3 = w0.fma(v, a3); b3 = w1.fma(v, b3); c3 = w2.fma(v, c3); d3 = w3.fma(v, d3);
            }
            int k = k0 / BLOCK;
            long ko = k * ks;
            FloatVector q0 = scales(sc, so + ko), q1 = scales(sc, so1 + ko);
            FloatVector q2 = scales(sc, so2 + ko), q3 = scales(sc, so3 + ko);
            a0.fma(q0, FloatVector.fromArray(F, out, 0)).intoArray(out, 0);
            b0.fma(q1, FloatVector.fromArray(F, out, L)).intoArray(out, L);
            c0.fma(q2, FloatVector.fromArray(F, out, 2 * L)).intoArray(out, 2 * L);
            d0.fma(q3, FloatVector.fromArray(F, out, 3 * L)).intoArray(out, 3 * L);
            a1.fma(q0, FloatVector.fromArray(F, out, 4 * L)).intoArray(out, 4 * L);
            b1.fma(q1, FloatVector.fromArray(F, out, 5 * L)).intoArray(out, 5 * L);
            c1.fma(q2, FloatVector.fromArray(F, out, 6 * L)).intoArray(out, 6 * L);
            d1.fma(q3, FloatVector.fromArray(F, out, 7 * L)).intoArray(out, 7 * L);
            a2.fma(q0, FloatVector.fromArray(F, out, 8 * L)).intoArray(out, 8 * L);
            b2.fma(q1, FloatVector.fromArray(F, out, 9 * L)).intoArray(out, 9 * L);
            c2.fma(q2, FloatVector.fromArray(F, out, 10 * L)).intoArray(out, 10 * L);
            d2.fma(q3, FloatVector.fromArray(F, out, 11 * L)).intoArray(out, 11 * L);
            a3.fma(q0, FloatVector.fromArray(F, out, 12 * L)).intoArray(out, 12 * L);
            b3.fma(q1, FloatVector.fromArray(F, out, 13 * L)).intoArray(out, 13 * L);
            c3.fma(q2, FloatVector.fromArray(F, out, 14 * L)).intoArray(out, 14 * L);
            d3.fma(q3, FloatVector.fromArray(F, out, 15 * L)).intoArray(out, 15 * L);
        }
    }

    // ---- Q8_0 gemm in place: a small batch against the panels, int8 widened in registers ---------------------------

    /** Batches up to this many items multiply Q8_0 panels in place ({@link #gemmQ8InPlace}), larger ones a tile. */
    static final int Q8_IN_PLACE_BATCH = 24;

    /**
     * As {@link #gemm} for Q8_0, without a decoded tile: the kernels widen the panels' int8 values in registers
     * for every group of items. For a small batch that is faster: the weights stream from memory while the FMAs run,
     * where decoding a tile first waits for memory, then computes (2048 x 768 matrices from memory, one thread:
     * 16 items 64-66 against 53-54 G MAC/s, 24 items 75 against 63-64; 48 items about even). Same chains, same bits.
     */
    static void gemmQ8InPlace(PanelMatrix w, int tp, int p, float[] x, int b0, int b1, float[] y, int ldy,
                              boolean accumulate, float[] scratch) {
        int rows = w.rows(), cols = w.cols();
        long pb = w.panelBytes();
        for (int b = b0; b < b1; ) {
            int n = group(b1 - b);
            if (n >= 5) q8x6(w.data(), p * pb, pb, tp, cols, x, b, b1 - 1, scratch);
            else q8x4(w.data(), p * pb, pb, tp, cols, x, b, b1 - 1, scratch);
            for (int j = 0; j < n; j++) store(scratch, 4 * L * j, tp, p * L, rows, y, (b + j) * ldy, accumulate);
            b += n;
        }
    }

    /**
     * Four Q8_0 panels in place (at byte {@code po} of {@code s}, {@code pb} apart; a tile of {@code tp} repeats
     * its last) x items {@code b .. b + 5} (past {@code last}, {@code last} again); results as {@link #gemm4x6}.
     */
    static void q8x6(MemorySegment s, long po, long pb, int tp, int cols, float[] x, int b, int last, float[] out) {
        long o1 = po + panel(1, tp) * pb, o2 = po + panel(2, tp) * pb, o3 = po + panel(3, tp) * pb;
        int x0 = b * cols, x1 = Math.min(b + 1, last) * cols, x2 = Math.min(b + 2, last) * cols;
        int x3 = Math.min(b + 3, last) * cols, x4 = Math.min(b + 4, last) * cols, x5 = Math.min(b + 5, last) * cols;
        java.util.Arrays.fill(out, 0, 24 * L, 0f);
        for (int k0 = 0; k0 < cols; k0 += BLOCK) {
            int k = k0 / BLOCK;
            // column c's int8 values of a panel are at byte (c - k0) * L after the block's scales
            long bo = (long) Q8_BLOCK_BYTES * L * k + 4L * L - (long) k0 * L;
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
            FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
            FloatVector c0 = z, c1 = z, c2 = z, c3 = z, c4 = z, c5 = z;
            FloatVector d0 = z, d1 = z, d2 = z, d3 = z, d4 = z, d5 = z;
            for (int c = k0; c < k0 + BLOCK; c++) {
                long o = bo + (long) c * L;
                FloatVector w0 = q8(s, po + o), w1 = q8(s, o1 + o), w2 = q8(s, o2 + o), w3 = q8(s, o3 + o);
                FloatVector v = FloatVector.broadcast(F, x[x0 + c]);
                a0 = w0.fma(v, a0); b0 = w1.fma(v, b0); c0 = w2.fma(v, c0); d0 = w3.fma(v, d0);
                v = FloatVector.broadcast(F, x[x1 + c]);
                a1 = w0.fma(v, a1); b1 = w1.fma(v, b1); c1 = w2.fma(v, c1); d1 = w3.fma(v, d1);
                v = FloatVector.broadcast(F, x[x2 + c]);
                a2 = w0.fma(v, a2); b2 = w1.fma(v, b2); c2 = w2.fma(v, c2); d2 = w3.fma(v, d2);
                v = FloatVector.broadcast(F, x[x3 + c]);
                a3 = w0.fma(v, a3); b3 = w1.fma(v, b3); c3 = w2.fma(v, c3); d3 = w3.fma(v, d3);
                v = FloatVector.broadcast(F, x[x4 + c]);
                a4 = w0.fma(v, a4); b4 = w1.fma(v, b4); c4 = w2.fma(v, c4); d4 = w3.fma(v, d4);
                v = FloatVector.broadcast(F, x[x5 + c]);
                a5 = w0.fma(v, a5); b5 = w1.fma(v, b5); c5 = w2.fma(v, c5); d5 = w3.fma(v, d5);
            }
            FloatVector q0 = q8Scale(s, po, k), q1 = q8Scale(s, o1, k), q2 = q8Scale(s, o2, k), q3 = q8Scale(s, o3, k);
            a0.fma(q0, FloatVector.fromArray(F, out, 0)).intoArray(out, 0);
            b0.fma(q1, FloatVector.fromArray(F, out, L)).intoArray(out, L);
            c0.fma(q2, FloatVector.fromArray(F, out, 2 * L)).intoArray(out, 2 * L);
            d0.fma(q3, FloatVector.fromArray(F, out, 3 * L)).intoArray(out, 3 * L);
            a1.fma(q0, FloatVector.fromArray(F, out, 4 * L)).intoArray(out, 4 * L);
            b1.fma(q1, FloatVector.fromArray(F, out, 5 * L)).intoArray(out, 5 * L);
            c1.fma(q2, FloatVector.fromArray(F, out, 6 * L)).intoArray(out, 6 * L);
            d1.fma(q3, FloatVector.fromArray(F, out, 7 * L)).intoArray(out, 7 * L);
            a2.fma(q0, FloatVector.fromArray(F, out, 8 * L)).intoArray(out, 8 * L);
            b2.fma(q1, FloatVector.fromArray(F, out, 9 * L)).intoArray(out, 9 * L);
            c2.fma(q2, FloatVector.fromArray(F, out, 10 * L)).intoArray(out, 10 * L);
            d2.fma(q3, FloatVector.fromArray(F, out, 11 * L)).intoArray(out, 11 * L);
            a3.fma(q0, FloatVector.fromArray(F, out, 12 * L)).intoArray(out, 12 * L);
            b3.fma(q1, FloatVector.fromArray(F, out, 13 * L)).intoArray(out, 13 * L);
            c3.fma(q2, FloatVector.fromArray(F, out, 14 * L)).intoArray(out, 14 * L);
            d3.fma(q3, FloatVector.fromArray(F, out, 15 * L)).intoArray(out, 15 * L);
            a4.fma(q0, FloatVector.fromArray(F, out, 16 * L)).intoArray(out, 16 * L);
            b4.fma(q1, FloatVector.fromArray(F, out, 17 * L)).intoArray(out, 17 * L);
            c4.fma(q2, FloatVector.fromArray(F, out, 18 * L)).intoArray(out, 18 * L);
            d4.fma(q3, FloatVector.fromArray(F, out, 19 * L)).intoArray(out, 19 * L);
            a5.fma(q0, FloatVector.fromArray(F, out, 20 * L)).intoArray(out, 20 * L);
            b5.fma(q1, FloatVector.fromArray(F, out, 21 * L)).intoArray(out, 21 * L);
            c5.fma(q2, FloatVector.fromArray(F, out, 22 * L)).intoArray(out, 22 * L);
            d5.fma(q3, FloatVector.fromArray(F, out, 23 * L)).intoArray(out, 23 * L);
        }
    }

    /** As {@link #q8x6} for items {@code b .. b + 3}. */
    static void q8x4(MemorySegment s, long po, long pb, int tp, int cols, float[] x, int b, int last, float[] out) {
        long o1 = po + panel(1, tp) * pb, o2 = po + panel(2, tp) * pb, o3 = po + panel(3, tp) * pb;
        int x0 = b * cols, x1 = Math.min(b + 1, last) * cols, x2 = Math.min(b + 2, last) * cols;
        int x3 = Math.min(b + 3, last) * cols;
        java.util.Arrays.fill(out, 0, 16 * L, 0f);
        for (int k0 = 0; k0 < cols; k0 += BLOCK) {
            int k = k0 / BLOCK;
            // column c's int8 values of a panel are at byte (c - k0) * L after the block's scales
            long bo = (long) Q8_BLOCK_BYTES * L * k + 4L * L - (long) k0 * L;
            FloatVector z = FloatVector.zero(F);
            FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
            FloatVector b0 = z, b1 = z, b2 = z, b3 = z;
            FloatVector c0 = z, c1 = z, c2 = z, c3 = z;
            FloatVector d0 = z, d1 = z, d2 = z, d3 = z;
            for (int c = k0; c < k0 + BLOCK; c++) {
                long o = bo + (long) c * L;
                FloatVector w0 = q8(s, po + o), w1 = q8(s, o1 + o), w2 = q8(s, o2 + o), w3 = q8(s, o3 + o);
                FloatVector v = FloatVector.broadcast(F, x[x0 + c]);
                a0 = w0.fma(v, a0); b0 = w1.fma(v, b0); c0 = w2.fma(v, c0); d0 = w3.fma(v, d0);
                v = FloatVector.broadcast(F, x[x1 + c]);
                a1 = w0.fma(v, a1); b1 = w1.fma(v, b1); c1 = w2.fma(v, c1); d1 = w3.fma(v, d1);
                v = FloatVector.broadcast(F, x[x2 + c]);
                a2 = w0.fma(v, a2); b2 = w1.fma(v, b2); c2 = w2.fma(v, c2); d2 = w3.fma(v, d2);
                v = FloatVector.broadcast(F, x[x3 + c]);
                a3 = w0.fma(v, a3); b3 = w1.fma(v, b3); c3 = w2.fma(v, c3); d3 = w3.fma(v, d3);
            }
            FloatVector q0 = q8Scale(s, po, k), q1 = q8Scale(s, o1, k), q2 = q8Scale(s, o2, k), q3 = q8Scale(s, o3, k);
            a0.fma(q0, FloatVector.fromArray(F, out, 0)).intoArray(out, 0);
            b0.fma(q1, FloatVector.fromArray(F, out, L)).intoArray(out, L);
            c0.fma(q2, FloatVector.fromArray(F, out, 2 * L)).intoArray(out, 2 * L);
            d0.fma(q3, FloatVector.fromArray(F, out, 3 * L)).intoArray(out, 3 * L);
            a1.fma(q0, FloatVector.fromArray(F, out, 4 * L)).intoArray(out, 4 * L);
            b1.fma(q1, FloatVector.fromArray(F, out, 5 * L)).intoArray(out, 5 * L);
            c1.fma(q2, FloatVector.fromArray(F, out, 6 * L)).intoArray(out, 6 * L);
            d1.fma(q3, FloatVector.fromArray(F, out, 7 * L)).intoArray(out, 7 * L);
            a2.fma(q0, FloatVector.fromArray(F, out, 8 * L)).intoArray(out, 8 * L);
            b2.fma(q1, FloatVector.fromArray(F, out, 9 * L)).intoArray(out, 9 * L);
            c2.fma(q2, FloatVector.fromArray(F, out, 10 * L)).intoArray(out, 10 * L);
            d2.fma(q3, FloatVector.fromArray(F, out, 11 * L)).intoArray(out, 11 * L);
            a3.fma(q0, FloatVector.fromArray(F, out, 12 * L)).intoArray(out, 12 * L);
            b3.fma(q1, FloatVector.fromArray(F, out, 13 * L)).intoArray(out, 13 * L);
            c3.fma(q2, FloatVector.fromArray(F, out, 14 * L)).intoArray(out, 14 * L);
            d3.fma(q3, FloatVector.fromArray(F, out, 15 * L)).intoArray(out, 15 * L);
        }
    }
}
