package io.tandem.engine.kernels;

import io.tandem.engine.kernels.MatMul.Projection;
import io.tandem.model.gguf.GgufTensorType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Vector kernels == scalar kernels == a double-precision reference, for every weight type and batch shape. */
class KernelsTest {
    private static final Kernels VECTOR = Kernels.create(KernelMode.VECTOR);
    private static final Kernels SCALAR = Kernels.create(KernelMode.SCALAR);
    private static final ComputePool POOL = new ComputePool(2);

    @AfterAll
    static void close() {
        POOL.close();
    }

    @Test
    void vectorKernelsAreAvailableInTheBuild() {
        // surefire runs with --add-modules jdk.incubator.vector; AUTO must then pick them
        assertTrue(Kernels.create(KernelMode.AUTO).name().startsWith("vector-"), Kernels.create(KernelMode.AUTO).name());
    }

    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        for (GgufTensorType t : WeightMatrix.SUPPORTED_TYPES) {
            boolean blocked = t.blockSize() > 1;
            // rows not a multiple of 4 exercise short row groups; unblocked types get a column tail too
            out.add(Arguments.of(t, 37, blocked ? 96 : 100));
            out.add(Arguments.of(t, 64, blocked ? 256 : 40));
            out.add(Arguments.of(t, 3, 32));
            // more columns than one decoded chunk of the packed matvec, and not a multiple of it
            out.add(Arguments.of(t, 20, blocked ? 160 : 300));
            // gemm tiles of four panels and a last one of two or three (16 and 8 lanes)
            out.add(Arguments.of(t, 150, 64));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @MethodSource("shapes")
    void matmulMatchesDoubleReference(GgufTensorType type, int rows, int cols) {
        Random rnd = new Random(rows * 31 + cols + type.ordinal());
        WeightMatrix w = TestTensors.matrix(type, rows, cols, TestTensors.random(rnd, rows * cols, 0.5f));
        for (int n : new int[] {1, 3, 4, 9, 70}) {
            float[] x = TestTensors.random(rnd, n * cols, 1f);
            double[] ref = new double[n * rows];
            double[] mag = new double[n * rows];
            for (int b = 0; b < n; b++) {
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        double p = (double) w.get(r, c) * x[b * cols + c];
                        ref[b * rows + r] += p;
                        mag[b * rows + r] += Math.abs(p);
                    }
                }
            }
            float[] yv = multiply(VECTOR, w, x, n);
            float[] ys = multiply(SCALAR, w, x, n);
            float[] yg = multiply(new MatMul(VECTOR, POOL), w, x, n); // the vector kernels on GGUF rows
            for (int i = 0; i < ref.length; i++) {
                double bound = 1e-6 * mag[i] + 1e-7;
                // Q4_0 (packed) multiplies 8-bit activations: each product is off by at most |w| * d_x / 2
                double packedBound = type == GgufTensorType.Q4_0 ? bound + activationRounding(w, x, i / rows, i % rows) : bound;
                String where = type + " n=" + n + " item " + i / rows + " row " + i % rows;
                assertTrue(Math.abs(yv[i] - ref[i]) <= packedBound, where + ": vector " + yv[i] + " vs reference " + ref[i]);
                assertTrue(Math.abs(yg[i] - ref[i]) <= bound, where + ": vector (GGUF rows) " + yg[i] + " vs reference " + ref[i]);
                assertTrue(Math.abs(ys[i] - ref[i]) <= packedBound, where + ": scalar " + ys[i] + " vs reference " + ref[i]);
            }
            // a batch item's result is the same bits as the item alone (matvec path vs gemm path)
            for (int b = 0; b < n; b++) {
                float[] alone = new float[cols];
                System.arraycopy(x, b * cols, alone, 0, cols);
                float[] v1 = multiply(VECTOR, w, alone, 1), s1 = multiply(SCALAR, w, alone, 1);
                for (int r = 0; r < rows; r++) {
                    assertEquals(v1[r], yv[b * rows + r], type + " vector: item " + b + " row " + r + " batched vs alone");
                    assertEquals(s1[r], ys[b * rows + r], type + " scalar: item " + b + " row " + r + " batched vs alone");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2}")
    @MethodSource("shapes")
    void packedVectorKernelsGiveTheScalarChainsBits(GgufTensorType type, int rows, int cols) {
        // both compute each output as the same blocked FMA chain along the columns over exactly decoded weights
        Random rnd = new Random(rows * 7 + cols + type.ordinal());
        WeightMatrix w = TestTensors.matrix(type, rows, cols, TestTensors.random(rnd, rows * cols, 0.5f));
        MatMul vector = new MatMul(VECTOR, POOL);
        LinearWeight packed = vector.pack(w);
        assertEquals(type != GgufTensorType.Q4_0, packed instanceof PanelMatrix, type + " packed as " + packed);
        if (!(packed instanceof PanelMatrix)) return;
        for (int n : new int[] {1, 2, 4, 5, 8, 13, 16, 33}) {
            float[] x = TestTensors.random(rnd, n * cols, 1f);
            float[] v = multiply(vector, packed, x, n), s = multiply(SCALAR, w, x, n);
            for (int i = 0; i < v.length; i++) {
                assertEquals(Float.floatToRawIntBits(s[i]), Float.floatToRawIntBits(v[i]),
                        type + " n=" + n + " item " + i / rows + " row " + i % rows + ": " + v[i] + " vs scalar " + s[i]);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void packedPanelsHoldTheMatrix(GgufTensorType type) {
        Random rnd = new Random(5);
        int rows = 21, cols = 64;
        WeightMatrix w = TestTensors.matrix(type, rows, cols, TestTensors.random(rnd, rows * cols, 1f));
        if (!(VECTOR.pack(w) instanceof PanelMatrix pm)) return;
        int lanes = pm.lanes();
        assertEquals((rows + lanes - 1) / lanes, pm.panels());
        float[] tile = new float[lanes * cols];
        for (int p = 0; p < pm.panels(); p++) {
            VECTOR.decode(pm, p, tile, 0);
            for (int c = 0; c < cols; c++) {
                for (int lane = 0; lane < lanes; lane++) {
                    int r = p * lanes + lane;
                    // Q8_0 tiles hold the int8 values; the gemm applies the block scales, read from the panels
                    float expected = r >= rows ? 0f : type == GgufTensorType.Q8_0
                            ? w.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, r * w.rowBytes() + 34L * (c / 32) + 2 + c % 32)
                            : w.get(r, c);
                    assertEquals(expected, tile[c * lanes + lane], type + " row " + r + " col " + c);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void accumulateAddsToTheOutput(GgufTensorType type) {
        Random rnd = new Random(7);
        WeightMatrix w = TestTensors.matrix(type, 8, 64, TestTensors.random(rnd, 8 * 64, 1f));
        for (int n : new int[] {1, 5}) {
            float[] x = TestTensors.random(rnd, n * 64, 1f);
            float[] base = TestTensors.random(rnd, n * 8, 1f);
            for (Kernels k : List.of(VECTOR, SCALAR)) {
                float[] plain = multiply(k, w, x, n);
                float[] acc = base.clone();
                MatMul mm = new MatMul(k, POOL);
                mm.multiply(x, n, Projection.accumulating(mm.pack(w), acc));
                for (int i = 0; i < acc.length; i++) assertEquals(base[i] + plain[i], acc[i], k.name() + " " + i);
            }
        }
    }

    static Stream<GgufTensorType> types() {
        return WeightMatrix.SUPPORTED_TYPES.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void dequantizeAgreesAcrossImplementationsAndWithTheEncodedValues(GgufTensorType type) {
        Random rnd = new Random(11);
        int rows = 5, cols = 128;
        float[] values = TestTensors.random(rnd, rows * cols, 2f);
        WeightMatrix w = TestTensors.matrix(type, rows, cols, values);
        float[] v = new float[rows * cols], s = new float[rows * cols];
        VECTOR.dequantize(w, 0, rows, v, 0);
        SCALAR.dequantize(w, 0, rows, s, 0);
        assertArrayEquals(s, v);
        for (int i = 0; i < values.length; i++) {
            assertEquals(w.get(i / cols, i % cols), v[i]);
            double err = Math.abs(v[i] - values[i]);
            double bound = switch (type) {
                case F32 -> 0;
                case F16 -> Math.abs(values[i]) * 0x1p-11;
                case BF16 -> Math.abs(values[i]) * 0x1p-8;
                case Q8_0 -> 2.0 / 127 * 2 * 4; // half a step of a block scale (|x| <= ~4 sigma here)
                default -> 2.0 / 8 * 4 * 1.01;
            };
            assertTrue(err <= bound, type + " value " + i + ": decoded " + v[i] + " from " + values[i]);
        }
    }

    @Test
    void everyHalfAndBfloatBitPatternDecodesExactly() {
        byte[] bytes = new byte[65536 * 2];
        for (int i = 0; i < 65536; i++) {
            bytes[2 * i] = (byte) i;
            bytes[2 * i + 1] = (byte) (i >>> 8);
        }
        for (GgufTensorType type : List.of(GgufTensorType.F16, GgufTensorType.BF16)) {
            WeightMatrix w = TestTensors.matrix(type, new long[] {65536, 1}, bytes);
            float[] v = new float[65536], s = new float[65536];
            VECTOR.dequantize(w, 0, 1, v, 0);
            SCALAR.dequantize(w, 0, 1, s, 0);
            for (int i = 0; i < 65536; i++) {
                float expected = type == GgufTensorType.F16 ? Float.float16ToFloat((short) i)
                        : Float.intBitsToFloat(i << 16);
                String where = type + " bits 0x" + Integer.toHexString(i);
                if (Float.isNaN(expected)) {
                    assertTrue(Float.isNaN(v[i]) && Float.isNaN(s[i]), where);
                } else {
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(v[i]), where + " vector");
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(s[i]), where + " scalar");
                }
            }
        }
    }

    @Test
    void f16PanelsWidenEveryHalfExactlyInMatvecAndGemm() {
        // row r holds the half with bits r in column 0 and zeros elsewhere: y[r] = half(r) + 0 at every batch size
        int rows = 65536, cols = 32;
        byte[] bytes = new byte[rows * cols * 2];
        for (int r = 0; r < rows; r++) {
            bytes[2 * r * cols] = (byte) r;
            bytes[2 * r * cols + 1] = (byte) (r >>> 8);
        }
        WeightMatrix w = TestTensors.matrix(GgufTensorType.F16, new long[] {cols, rows}, bytes);
        MatMul vector = new MatMul(VECTOR, POOL);
        LinearWeight packed = vector.pack(w);
        for (int n : new int[] {1, 4}) {
            float[] x = new float[n * cols];
            for (int i = 0; i < n; i++) x[i * cols] = 1f;
            float[] y = multiply(vector, packed, x, n);
            for (int i = 0; i < n * rows; i++) {
                float expected = Float.float16ToFloat((short) (i % rows)) + 0f;
                String where = "n=" + n + " half 0x" + Integer.toHexString(i % rows);
                if (Float.isNaN(expected)) assertTrue(Float.isNaN(y[i]), where + ": " + y[i]);
                else assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(y[i]), where + ": " + y[i]);
            }
        }
    }

    @Test
    void f16MatvecWidensEveryFiniteHalfInRegistersAndLargeActivationsTakeTheDecodingPath() {
        // every finite half, one per row in column 0 (the matrix has no infinity or NaN, so the in-register path
        // runs); activations 1, 3.7 (a product that rounds) and 70000 (beyond 2^16: the decoding path)
        short[] halves = new short[63488];
        int rows = 0;
        for (int h = 0; h < 65536; h++) if ((h & 0x7c00) != 0x7c00) halves[rows++] = (short) h;
        int cols = 64;
        byte[] bytes = new byte[rows * cols * 2];
        for (int r = 0; r < rows; r++) {
            bytes[2 * r * cols] = (byte) halves[r];
            bytes[2 * r * cols + 1] = (byte) (halves[r] >>> 8);
        }
        WeightMatrix w = TestTensors.matrix(GgufTensorType.F16, new long[] {cols, rows}, bytes);
        MatMul vector = new MatMul(VECTOR, POOL);
        LinearWeight packed = vector.pack(w);
        assertTrue(((PanelMatrix) packed).finite());
        for (float a : new float[] {1f, 3.7f, 70000f}) {
            float[] x = new float[cols];
            x[0] = a;
            x[33] = 0.5f; // a zero weight in every row: the second block adds +0
            float[] y = multiply(vector, packed, x, 1);
            for (int r = 0; r < rows; r++) {
                float expected = Float.float16ToFloat(halves[r]) * a + 0f;
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(y[r]),
                        "x " + a + " half 0x" + Integer.toHexString(halves[r] & 0xffff) + ": " + y[r]);
            }
        }
    }

    @Test
    void blockLayoutsFollowGgml() {
        // Q8_0: half scale 0.5 (0x3800), then int8 values -128..127 pattern
        byte[] q8 = new byte[34];
        q8[0] = 0x00;
        q8[1] = 0x38;
        for (int j = 0; j < 32; j++) q8[2 + j] = (byte) (j * 9 - 128);
        // Q4_0: scale 2.0 (0x4000), byte j = (hi << 4) | lo with lo = j, hi = 15 - j
        byte[] q4 = new byte[18];
        q4[0] = 0x00;
        q4[1] = 0x40;
        for (int j = 0; j < 16; j++) q4[2 + j] = (byte) (j | (15 - j) << 4);
        WeightMatrix w8 = TestTensors.matrix(GgufTensorType.Q8_0, new long[] {32, 1}, q8);
        WeightMatrix w4 = TestTensors.matrix(GgufTensorType.Q4_0, new long[] {32, 1}, q4);
        for (Kernels k : List.of(VECTOR, SCALAR)) {
            float[] d8 = new float[32], d4 = new float[32];
            k.dequantize(w8, 0, 1, d8, 0);
            k.dequantize(w4, 0, 1, d4, 0);
            for (int j = 0; j < 32; j++) assertEquals(0.5f * (byte) (j * 9 - 128), d8[j], k.name() + " q8 " + j);
            for (int j = 0; j < 16; j++) {
                assertEquals(2f * (j - 8), d4[j], k.name() + " q4 low nibble " + j);
                assertEquals(2f * (15 - j - 8), d4[16 + j], k.name() + " q4 high nibble " + j);
            }
        }
    }

    @Test
    void elementWiseKernelsAgree() {
        Random rnd = new Random(3);
        for (int n : new int[] {1, 7, 16, 64, 100}) {
            float[] a = TestTensors.random(rnd, n + 3, 1f), b = TestTensors.random(rnd, n + 5, 1f);
            float[] weight = TestTensors.random(rnd, n, 1f);
            float[] nv = new float[n + 2], ns = new float[n + 2];
            VECTOR.rmsnorm(a, 3, weight, nv, 2, n, 1e-5f);
            SCALAR.rmsnorm(a, 3, weight, ns, 2, n, 1e-5f);
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (double) a[3 + i] * a[3 + i];
            double scale = 1 / Math.sqrt(ss / n + 1e-5);
            for (int i = 0; i < n; i++) {
                double ref = a[3 + i] * scale * weight[i];
                assertEquals(ref, nv[2 + i], 1e-5 * Math.max(1, Math.abs(ref)), "vector rmsnorm n=" + n);
                assertEquals(ref, ns[2 + i], 1e-5 * Math.max(1, Math.abs(ref)), "scalar rmsnorm n=" + n);
            }

            float[] sv = a.clone(), sx = a.clone();
            VECTOR.softmax(sv, 3, n);
            SCALAR.softmax(sx, 3, n);
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int i = 0; i < n; i++) max = Math.max(max, a[3 + i]);
            for (int i = 0; i < n; i++) z += Math.exp(a[3 + i] - max);
            for (int i = 0; i < n; i++) {
                double ref = Math.exp(a[3 + i] - max) / z;
                assertEquals(ref, sv[3 + i], 1e-6, "vector softmax n=" + n);
                assertEquals(ref, sx[3 + i], 1e-6, "scalar softmax n=" + n);
            }

            float[] gv = a.clone(), gs = a.clone();
            VECTOR.siluMul(gv, b, 0, n);
            SCALAR.siluMul(gs, b, 0, n);
            for (int i = 0; i < n; i++) {
                double ref = a[i] / (1 + Math.exp(-a[i])) * b[i];
                assertEquals(ref, gv[i], 1e-6 * Math.max(1, Math.abs(ref)), "vector silu n=" + n);
                assertEquals(ref, gs[i], 1e-6 * Math.max(1, Math.abs(ref)), "scalar silu n=" + n);
            }
        }
    }

    /** Rows of {@code hd} random values at scattered offsets of one segment, as through a block table. */
    private static java.lang.foreign.MemorySegment kvRows(Random rnd, int count, int hd, boolean f16, long[] off) {
        int elem = f16 ? 2 : 4;
        java.lang.foreign.MemorySegment mem = java.lang.foreign.Arena.ofAuto().allocate((long) 2 * count * hd * elem);
        for (int i = 0; i < count; i++) {
            off[i] = (long) ((i * 7) % (2 * count)) * hd * elem;
            float[] row = TestTensors.random(rnd, hd, 1f);
            for (int d = 0; d < hd; d++) {
                if (f16) mem.set(WeightMatrix.SHORT_LE, off[i] + 2L * d, Float.floatToFloat16(row[d]));
                else mem.set(WeightMatrix.FLOAT_LE, off[i] + 4L * d, row[d]);
            }
        }
        return mem;
    }

    /**
     * {@code count} keys of {@code hd} random values in blocks of {@code blockSize} laid out as the K arenas hold them
     * (element-major inside a block), the blocks at scattered places of one segment: block {@code i} at
     * {@code blocks[i]}. {@code rows[p]} gets key {@code p} as stored (rounded to half for F16) when not null.
     */
    private static java.lang.foreign.MemorySegment kvKeys(Random rnd, int count, int hd, boolean f16, int blockSize,
                                                          long[] blocks, float[][] rows) {
        int elem = f16 ? 2 : 4, nb = (count + blockSize - 1) / blockSize;
        long blockBytes = (long) hd * blockSize * elem;
        java.lang.foreign.MemorySegment mem = java.lang.foreign.Arena.ofAuto().allocate(2 * nb * blockBytes);
        for (int b = 0; b < nb; b++) blocks[b] = (2L * (nb - b) - 1) * blockBytes; // every other block, backwards
        for (int p = 0; p < count; p++) {
            float[] row = TestTensors.random(rnd, hd, 1f);
            long at = blocks[p / blockSize] + (long) (p % blockSize) * elem;
            for (int d = 0; d < hd; d++) {
                long o = at + (long) d * blockSize * elem;
                if (f16) {
                    mem.set(WeightMatrix.SHORT_LE, o, Float.floatToFloat16(row[d]));
                    row[d] = Float.float16ToFloat(Float.floatToFloat16(row[d]));
                } else {
                    mem.set(WeightMatrix.FLOAT_LE, o, row[d]);
                }
            }
            if (rows != null) rows[p] = row;
        }
        return mem;
    }

    /**
     * Scores against staged keys have the bits of scores read in place, for every query row of a tile (rows of
     * different lengths, a row count that is not a multiple of three) and key counts that are not whole blocks; and
     * weighted sums of staged values the bits of sums read in place.
     */
    @Test
    void stagedAttentionEqualsAttentionReadInPlace() {
        Random rnd = new Random(12);
        assertTrue(VECTOR.stagesKeys(64) || VectorKernels.lanes() != 16, "AVX-512 vector kernels stage head_dim 64");
        for (boolean f16 : new boolean[] {false, true}) {
            for (int hd : new int[] {16, 64, 128}) {
                if (!VECTOR.stagesKeys(hd)) continue;
                int count = 53, rows = 7, pad = 64, bs = hd == 64 ? 16 : 8 * (1 + rnd.nextInt(4));
                long[] off = new long[count], blocks = new long[count];
                java.lang.foreign.MemorySegment mem = kvRows(rnd, count, hd, f16, off);
                java.lang.foreign.MemorySegment keyMem = kvKeys(rnd, count, hd, f16, bs, blocks, null);
                float[] keys = new float[5 + pad * hd];
                java.util.Arrays.fill(keys, Float.NaN); // every staged key must be written where the scores read it
                VECTOR.stageKeys(keyMem, blocks, bs, count, hd, f16, keys, 5);
                float[] q = TestTensors.random(rnd, 3 + rows * hd, 1f);
                int[] qOff = new int[rows], counts = new int[rows];
                for (int r = 0; r < rows; r++) {
                    qOff[r] = 3 + r * hd;
                    counts[r] = r == rows - 1 ? count : 1 + rnd.nextInt(count);
                }
                float[] staged = new float[2 + rows * pad], inPlace = new float[count];
                VECTOR.attentionScoresStaged(q, qOff, counts, rows, keys, 5, hd, 0.125f, staged, 2, pad);
                for (int r = 0; r < rows; r++) {
                    VECTOR.attentionScores(q, qOff[r], keyMem, blocks, bs, counts[r], hd, f16, 0.125f, inPlace);
                    for (int i = 0; i < counts[r]; i++) {
                        assertEquals(Float.floatToRawIntBits(inPlace[i]), Float.floatToRawIntBits(staged[2 + r * pad + i]),
                                "row " + r + " key " + i + ", head_dim " + hd + ", blocks of " + bs + (f16 ? " F16" : " F32"));
                    }
                }
                for (int heads : new int[] {1, 3, 4}) {
                    int stride = count + 3;
                    float[] w = TestTensors.random(rnd, heads * stride, 1f);
                    float[] values = new float[7 + count * hd];
                    VECTOR.decodeRows(mem, off, count, hd, f16, values, 7);
                    float[] fromStaged = new float[1 + heads * hd], fromPlace = new float[1 + heads * hd];
                    VECTOR.attentionValuesStaged(w, 0, stride, heads, values, 7, count, hd, fromStaged, 1);
                    VECTOR.attentionValues(w, 0, stride, heads, mem, off, count, hd, f16, fromPlace, 1);
                    assertArrayEquals(fromPlace, fromStaged, heads + " heads' values, head_dim " + hd);
                }
            }
        }
    }

    /**
     * F16 keys and values read in place (the vector kernels widen halves in registers, scaled by 2^-112, and scale the
     * query or weights by 2^112) keep the exact path's results where that scaling cannot hold: an infinite or NaN
     * half (the scaled reading would make it a large finite number) and a query or weight of 2^16 or more (its
     * scaled copy would overflow).
     */
    @Test
    void f16AttentionInPlaceKeepsInfinitiesNaNsAndLargeQueries() {
        Random rnd = new Random(23);
        int count = 40, hd = 64, bs = 16, heads = 3, stride = count + 3;
        long[] off = new long[count], blocks = new long[count];
        java.lang.foreign.MemorySegment values = kvRows(rnd, count, hd, true, off);
        java.lang.foreign.MemorySegment keys = kvKeys(rnd, count, hd, true, bs, blocks, null);
        for (int variant = 0; variant < 4; variant++) {
            boolean special = variant == 1 || variant == 3, large = variant >= 2;
            // key 5 element 3 infinite, key 21 element 60 NaN, value 7 element 10 minus infinity
            keys.set(WeightMatrix.SHORT_LE, blocks[0] + 2L * (3 * bs + 5), special ? (short) 0x7c00 : (short) 0x3c00);
            keys.set(WeightMatrix.SHORT_LE, blocks[1] + 2L * (60 * bs + 5), special ? (short) 0x7e00 : (short) 0x3800);
            values.set(WeightMatrix.SHORT_LE, off[7] + 2L * 10, special ? (short) 0xfc00 : (short) 0xbc00);
            float[] q = TestTensors.random(rnd, heads * hd, 1f), w = TestTensors.random(rnd, heads * stride, 1f);
            if (large) {
                q[hd + 9] = 70000f;
                w[stride + 4] = 65536f;
            }
            String what = (special ? "infinite and NaN halves" : "finite halves") + (large ? ", a large query" : "");
            float[] inPlace = new float[heads * stride], exact = new float[heads * stride];
            VECTOR.groupAttentionScores(q, 0, heads, keys, blocks, bs, count, hd, true, 0.125f, inPlace, stride);
            VECTOR.groupAttentionScores(q, 0, heads, widened(keys), twice(blocks), bs, count, hd, false, 0.125f, exact,
                    stride);
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < count; i++) {
                    assertEquals(Float.floatToIntBits(exact[h * stride + i]), Float.floatToIntBits(inPlace[h * stride + i]),
                            what + ": head " + h + " key " + i);
                }
            }
            if (special) {
                assertTrue(Float.isInfinite(exact[5]) || Float.isNaN(exact[5]), "the infinite key scores " + exact[5]);
            }
            float[] outInPlace = new float[heads * hd], outExact = new float[heads * hd];
            VECTOR.attentionValues(w, 0, stride, heads, values, off, count, hd, true, outInPlace, 0);
            VECTOR.attentionValues(w, 0, stride, heads, widened(values), twice(off), count, hd, false, outExact, 0);
            for (int i = 0; i < heads * hd; i++) {
                assertEquals(Float.floatToIntBits(outExact[i]), Float.floatToIntBits(outInPlace[i]), what + ": output " + i);
            }
            if (special) assertTrue(Float.isInfinite(outExact[10]) || Float.isNaN(outExact[10]), "value 7's element");
        }
    }

    /** The halves of {@code f16} widened to F32, each at twice its byte offset (so the same layout, offsets doubled). */
    private static java.lang.foreign.MemorySegment widened(java.lang.foreign.MemorySegment f16) {
        java.lang.foreign.MemorySegment f32 = java.lang.foreign.Arena.ofAuto().allocate(2 * f16.byteSize());
        for (long o = 0; o < f16.byteSize(); o += 2) {
            f32.set(WeightMatrix.FLOAT_LE, 2 * o, Float.float16ToFloat(f16.get(WeightMatrix.SHORT_LE, o)));
        }
        return f32;
    }

    private static long[] twice(long[] offsets) {
        return java.util.Arrays.stream(offsets).map(o -> 2 * o).toArray();
    }

    /**
     * The query heads of a KV group scored together (the vector kernels load each key once for three heads at a
     * time) get the bits each head gets alone, in its own row, for counts with and without a tail past the sixteen-key
     * blocks.
     */
    @Test
    void groupScoresHaveTheBitsOfEachHeadAlone() {
        Random rnd = new Random(17);
        for (Kernels k : List.of(VECTOR, SCALAR)) {
            for (boolean f16 : new boolean[] {false, true}) {
                for (int hd : new int[] {40, 64, 128}) {
                    for (int count : new int[] {1, 5, 16, 37, 64}) {
                        int bs = List.of(16, 32, 5).get(rnd.nextInt(3)); // 5: not whole vectors
                        long[] blocks = new long[count];
                        java.lang.foreign.MemorySegment mem = kvKeys(rnd, count, hd, f16, bs, blocks, null);
                        for (int heads : new int[] {1, 2, 3, 4, 8}) {
                            float[] q = TestTensors.random(rnd, 2 + heads * hd, 1f);
                            int stride = count + 3;
                            float[] together = TestTensors.random(rnd, heads * stride, 1f), alone = new float[count];
                            float[] untouched = together.clone();
                            k.groupAttentionScores(q, 2, heads, mem, blocks, bs, count, hd, f16, 0.125f, together, stride);
                            String what = k.name() + " " + heads + " heads, " + count + " keys, head_dim " + hd
                                    + ", blocks of " + bs + (f16 ? " F16" : " F32");
                            for (int h = 0; h < heads; h++) {
                                k.attentionScores(q, 2 + h * hd, mem, blocks, bs, count, hd, f16, 0.125f, alone);
                                for (int i = 0; i < count; i++) {
                                    assertEquals(Float.floatToRawIntBits(alone[i]),
                                            Float.floatToRawIntBits(together[h * stride + i]),
                                            what + ": head " + h + " key " + i);
                                }
                                for (int i = count; i < stride; i++) {
                                    assertEquals(untouched[h * stride + i], together[h * stride + i],
                                            what + ": past head " + h + "'s row");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A key's score has the same bits however many keys are scored with it (the vector kernels score keys sixteen or
     * four at a time or alone), and a head's weighted sum the same bits whether the heads of its group are summed
     * together or it is summed alone: what keeps a query's attention independent of its chunk and batch.
     */
    @Test
    void attentionResultsDoNotDependOnGrouping() {
        Random rnd = new Random(11);
        for (Kernels k : List.of(VECTOR, SCALAR)) {
            for (boolean f16 : new boolean[] {false, true}) {
                for (int hd : new int[] {40, 64, 128}) {
                    int count = 53;
                    long[] off = new long[count], blocks = new long[count];
                    java.lang.foreign.MemorySegment mem = kvRows(rnd, count, hd, f16, off);
                    java.lang.foreign.MemorySegment keyMem = kvKeys(rnd, count, hd, f16, 16, blocks, null);
                    float[] q = TestTensors.random(rnd, hd + 2, 1f);
                    float[] all = new float[count], prefix = new float[count];
                    k.attentionScores(q, 2, keyMem, blocks, 16, count, hd, f16, 0.125f, all);
                    for (int i = 0; i < count; i++) { // key i last of i + 1 keys: in a whole chunk of keys or not
                        k.attentionScores(q, 2, keyMem, blocks, 16, i + 1, hd, f16, 0.125f, prefix);
                        assertEquals(Float.floatToRawIntBits(prefix[i]), Float.floatToRawIntBits(all[i]),
                                k.name() + " score " + i + " of " + count + ", head_dim " + hd + (f16 ? " F16" : " F32"));
                    }
                    for (int heads : new int[] {2, 4, 5}) { // a pair, a three and one, a three and a pair
                        int stride = count + 3;
                        float[] w = TestTensors.random(rnd, heads * stride, 1f);
                        float[] together = new float[1 + heads * hd], alone = new float[1 + heads * hd];
                        k.attentionValues(w, 0, stride, heads, mem, off, count, hd, f16, together, 1);
                        for (int h = 0; h < heads; h++) {
                            float[] wh = java.util.Arrays.copyOfRange(w, h * stride, h * stride + count);
                            k.attentionValues(wh, mem, off, count, hd, f16, alone, 1 + h * hd);
                        }
                        assertArrayEquals(alone, together, k.name() + " values of " + heads + " heads, head_dim " + hd);
                    }
                    float[] rows = new float[count * hd];
                    k.decodeRows(mem, off, count, hd, f16, rows);
                    for (int i = 0; i < count; i++) {
                        for (int d = 0; d < hd; d++) {
                            float v = f16 ? Float.float16ToFloat(mem.get(WeightMatrix.SHORT_LE, off[i] + 2L * d))
                                    : mem.get(WeightMatrix.FLOAT_LE, off[i] + 4L * d);
                            assertEquals(v, rows[i * hd + d], k.name() + " decoded row " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void attentionKernelsReadKvMemoryInPlace() {
        Random rnd = new Random(9);
        for (boolean f16 : new boolean[] {false, true}) {
            for (int hd : new int[] {8, 16, 40, 64, 128}) {
                int count = 37, elem = f16 ? 2 : 4;
                // rows at scattered offsets, as through a block table
                java.lang.foreign.MemorySegment mem = java.lang.foreign.Arena.ofAuto().allocate((long) 2 * count * hd * elem);
                long[] off = new long[count];
                float[][] rows = new float[count][];
                for (int i = 0; i < count; i++) {
                    off[i] = (long) ((i * 7) % (2 * count)) * hd * elem;
                    rows[i] = TestTensors.random(rnd, hd, 1f);
                    for (int d = 0; d < hd; d++) {
                        if (f16) {
                            mem.set(WeightMatrix.SHORT_LE, off[i] + 2L * d, Float.floatToFloat16(rows[i][d]));
                            rows[i][d] = Float.float16ToFloat(Float.floatToFloat16(rows[i][d]));
                        } else {
                            mem.set(WeightMatrix.FLOAT_LE, off[i] + 4L * d, rows[i][d]);
                        }
                    }
                }
                float[] q = TestTensors.random(rnd, hd + 5, 1f);
                float[] sv = new float[count], ss = new float[count];
                for (int bs : new int[] {16, 7}) {
                    long[] blocks = new long[count];
                    float[][] keys = new float[count][];
                    java.lang.foreign.MemorySegment keyMem = kvKeys(rnd, count, hd, f16, bs, blocks, keys);
                    VECTOR.attentionScores(q, 5, keyMem, blocks, bs, count, hd, f16, 0.25f, sv);
                    SCALAR.attentionScores(q, 5, keyMem, blocks, bs, count, hd, f16, 0.25f, ss);
                    for (int i = 0; i < count; i++) {
                        double ref = 0;
                        for (int d = 0; d < hd; d++) ref += (double) q[5 + d] * keys[i][d];
                        String what = (f16 ? "F16" : "F32") + " head_dim " + hd + ", blocks of " + bs;
                        assertEquals(ref * 0.25, sv[i], 1e-5, what + " vector score " + i);
                        assertEquals(ref * 0.25, ss[i], 1e-5, what + " scalar score " + i);
                    }
                }
                float[] weights = TestTensors.random(rnd, count, 1f);
                float[] ov = new float[hd + 3], os = new float[hd + 3];
                VECTOR.attentionValues(weights, mem, off, count, hd, f16, ov, 3);
                SCALAR.attentionValues(weights, mem, off, count, hd, f16, os, 3);
                String what = (f16 ? "F16" : "F32") + " head_dim " + hd;
                for (int d = 0; d < hd; d++) {
                    double ref = 0;
                    for (int i = 0; i < count; i++) ref += (double) weights[i] * rows[i][d];
                    assertEquals(ref, ov[3 + d], 1e-5, what + " vector value " + d);
                    assertEquals(ref, os[3 + d], 1e-5, what + " scalar value " + d);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgufTensorType.class, names = {"Q4_1", "Q5_0", "Q4_K", "Q6_K", "I8"})
    void unsupportedTypesAreNamed(GgufTensorType type) {
        long cols = type.blockSize() * 2L;
        byte[] data = new byte[(int) type.byteSize(cols)];
        var e = assertThrows(UnsupportedTensorTypeException.class,
                () -> TestTensors.matrix(type, new long[] {cols, 1}, data));
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains(type.name()), e.getMessage());
    }

    /** Through the form the kernels pack {@code w} into (panels for the vector kernels, GGUF rows for scalar). */
    /** Σ_c |w[r][c]| * d_x / 2, d_x = max |x| of c's 32-block / 127: the most 8-bit activations move a dot product. */
    private static double activationRounding(WeightMatrix w, float[] x, int item, int r) {
        int cols = w.cols();
        double sum = 0;
        for (int k = 0; k < cols; k += 32) {
            double max = 0;
            for (int c = k; c < k + 32; c++) max = Math.max(max, Math.abs(x[item * cols + c]));
            for (int c = k; c < k + 32; c++) sum += Math.abs(w.get(r, c)) * max / 127 / 2;
        }
        return sum * 1.0001;
    }

    private static float[] multiply(Kernels k, WeightMatrix w, float[] x, int n) {
        MatMul mm = new MatMul(k, POOL);
        return multiply(mm, mm.pack(w), x, n);
    }

    private static float[] multiply(MatMul mm, LinearWeight w, float[] x, int n) {
        float[] y = new float[n * w.source().rows()];
        mm.multiply(x, n, Projection.of(w, y));
        return y;
    }
}
