package io.tandem.model.gguf;

import io.tandem.model.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufWriterRoundTripTest {

    /** One entry of every value type, including extremes, unicode, empty values and nested arrays. */
    static GgufWriter allValueTypes() {
        return new GgufWriter()
                .put("u8.min", GgufValue.uint8(0)).put("u8.max", GgufValue.uint8(255))
                .put("i8.min", GgufValue.int8(-128)).put("i8.max", GgufValue.int8(127))
                .put("u16.max", GgufValue.uint16(65535)).put("i16.min", GgufValue.int16(-32768))
                .put("u32.max", GgufValue.uint32(0xFFFF_FFFFL)).put("i32.min", GgufValue.int32(Integer.MIN_VALUE))
                .put("u64.max", GgufValue.uint64(-1L)).put("i64.min", GgufValue.int64(Long.MIN_VALUE))
                .put("f32", GgufValue.float32(1e-6f)).put("f32.nan", GgufValue.float32(Float.NaN))
                .put("f64", GgufValue.float64(Math.PI)).put("f64.neg0", GgufValue.float64(-0.0))
                .put("bool.t", GgufValue.bool(true)).put("bool.f", GgufValue.bool(false))
                .put("str", GgufValue.string("héllo ▁ 世界 🎉\n\u0000end")).put("str.empty", GgufValue.string(""))
                .put("a.u8", GgufValue.array(GgufValueType.UINT8, new byte[] {0, 1, (byte) 255}))
                .put("a.i8", GgufValue.array(GgufValueType.INT8, new byte[] {-128, 0, 127}))
                .put("a.u16", GgufValue.array(GgufValueType.UINT16, new short[] {0, (short) 65535}))
                .put("a.i16", GgufValue.array(GgufValueType.INT16, new short[] {-32768, 32767}))
                .put("a.u32", GgufValue.array(GgufValueType.UINT32, new int[] {0, -1}))
                .put("a.i32", GgufValue.int32Array(1, -2, 3))
                .put("a.u64", GgufValue.array(GgufValueType.UINT64, new long[] {-1L, 7}))
                .put("a.i64", GgufValue.array(GgufValueType.INT64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE}))
                .put("a.f32", GgufValue.float32Array(0.5f, -0f, Float.POSITIVE_INFINITY))
                .put("a.f64", GgufValue.array(GgufValueType.FLOAT64, new double[] {1e300, -1e-300}))
                .put("a.bool", GgufValue.array(GgufValueType.BOOL, new boolean[] {true, false, true}))
                .put("a.str", GgufValue.stringArray(List.of("a", "", "Ġ Ġ", "<|im_end|>", "日本")))
                .put("a.empty", GgufValue.array(GgufValueType.FLOAT32, new float[0]))
                .put("a.nested", GgufValue.arrayOfArrays(List.of(
                        GgufValue.int32Array(1, 2),
                        GgufValue.stringArray(List.of("x", "yz")),
                        GgufValue.arrayOfArrays(List.of(GgufValue.float32Array(3f))),
                        GgufValue.arrayOfArrays(List.of()))));
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
        return b;
    }

    @ParameterizedTest
    @CsvSource({"3, 32", "2, 32", "3, 64", "2, 1", "3, 4096"})
    void everyValueTypeAndTensorsSurviveARoundTrip(int version, int alignment, @TempDir Path dir) throws Exception {
        GgufWriter w = allValueTypes().version(version);
        if (alignment != 32) w.alignment(alignment);
        float[] vals = {1f, -2.5f, 3.25f};
        w.addF32Tensor("odd", new long[] {3}, vals)
                .addTensor("q8", GgufTensorType.Q8_0, new long[] {64, 3}, bytes(6 * 34, 1))
                .addTensor("f16.4d", GgufTensorType.F16, new long[] {2, 3, 1, 2}, bytes(24, 2))
                .addTensor("q4k", GgufTensorType.Q4_K, new long[] {256}, bytes(144, 3))
                .addTensor("empty", GgufTensorType.F32, new long[] {0}, new byte[0]);
        Path file = dir.resolve("rt.gguf");
        w.write(file);
        byte[] inMemory = w.toByteArray();
        assertArrayEquals(inMemory, Files.readAllBytes(file), "file and in-memory output are identical");

        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(version, f.version());
            assertEquals(alignment, f.alignment());
            assertEquals(0, f.dataOffset() % alignment);
            Map<String, GgufValue> expected = new java.util.LinkedHashMap<>(allValueTypes().metadata().asMap());
            if (alignment != 32) expected.put("general.alignment", GgufValue.uint32(alignment));
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(f.metadata().keys()), "keys in insertion order");
            assertEquals(expected, f.metadata().asMap());

            assertEquals(List.of("odd", "q8", "f16.4d", "q4k", "empty"), f.tensors().stream().map(TensorInfo::name).toList());
            MemorySegment odd = f.tensorData(f.tensor("odd"));
            for (int i = 0; i < 3; i++) assertEquals(vals[i], odd.get(GgufParser.F32, i * 4L));
            assertArrayEquals(bytes(6 * 34, 1), f.tensorData(f.tensor("q8")).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertArrayEquals(new long[] {2, 3, 1, 2}, f.tensor("f16.4d").dims());
            assertArrayEquals(bytes(24, 2), f.tensorData(f.tensor("f16.4d")).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertArrayEquals(bytes(144, 3), f.tensorData(f.tensor("q4k")).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertEquals(0, f.tensorData(f.tensor("empty")).byteSize());
            for (TensorInfo t : f.tensors()) assertEquals(0, t.offset() % alignment, t.name());

            // Writing what was read gives the same bytes again.
            GgufWriter again = new GgufWriter().version(version).putAll(f.metadata());
            for (TensorInfo t : f.tensors()) again.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            assertArrayEquals(inMemory, again.toByteArray());
        }
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(inMemory))) {
            assertEquals(f.metadata().asMap(), GgufFile.parse(MemorySegment.ofArray(inMemory)).metadata().asMap());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-spm-f32", "tiny-qwen3-q8_0", "tandem-fortune-5m-f32", "bundled"})
    void rewritingARealModelReproducesItByteForByte(String name) throws Exception {
        Path p = name.equals("bundled") ? TestData.bundledModelSource() : TestData.model(name);
        try (GgufFile f = GgufFile.open(p)) {
            GgufWriter w = new GgufWriter().version(f.version()).putAll(f.metadata());
            for (TensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            assertArrayEquals(Files.readAllBytes(p), w.toByteArray());
        }
    }

    @Test
    void writerRefusesInvalidTensorsAndValues() {
        GgufWriter w = new GgufWriter().addF32Tensor("a", new long[] {1}, new float[] {1});
        assertThrows(IllegalArgumentException.class, () -> w.addF32Tensor("a", new long[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("b", GgufTensorType.F32, new long[] {2}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("c", GgufTensorType.Q8_0, new long[] {16}, new byte[17]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("d", GgufTensorType.F32, new long[] {1, 1, 1, 1, 1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> w.alignment(48));
        assertThrows(IllegalArgumentException.class, () -> w.version(1));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.uint8(256));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.uint32(-1));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.array(GgufValueType.INT32, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.put("general.alignment", GgufValue.int32(32)));
    }

    @Test
    void typedGettersConvertAndNameTheKeyOnMismatch() throws Exception {
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(allValueTypes().toByteArray()))) {
            GgufMetadata m = f.metadata();
            assertEquals(255, m.getInt("u8.max", 0));
            assertEquals(-128, m.getInt("i8.min", 0));
            assertEquals(0xFFFF_FFFFL, m.getLong("u32.max", 0));
            assertEquals(65535f, m.getFloat("u16.max", 0));
            assertEquals((float) Math.PI, m.getFloat("f64", 0));
            assertEquals(42, m.getInt("absent", 42));
            assertEquals("dflt", m.getString("absent", "dflt"));
            assertArrayEquals(new int[] {0, 1, 255}, m.getIntArray("a.u8"));
            assertArrayEquals(new int[] {-128, 0, 127}, m.getIntArray("a.i8"));
            assertArrayEquals(new int[] {0, 65535}, m.getIntArray("a.u16"));
            assertArrayEquals(new float[] {Float.POSITIVE_INFINITY, -0f}, m.getFloatArray("a.f64"));
            assertEquals(List.of("a", "", "Ġ Ġ", "<|im_end|>", "日本"), m.getStringArray("a.str"));
            var e = assertThrows(IllegalArgumentException.class, () -> m.getInt("u32.max", 0));
            assertTrue(e.getMessage().contains("u32.max"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.getString("u8.max"));
            assertTrue(e.getMessage().contains("'u8.max' is uint8"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.getStringArray("missing.key"));
            assertTrue(e.getMessage().contains("missing.key"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.getIntArray("a.u64"));
            assertThrows(IllegalArgumentException.class, () -> m.getBool("str", false));
        }
    }
}
