package io.tandem.model.gguf;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random valid files round-trip; truncated or corrupted ones fail only with GgufFormatException. */
class GgufFilePropertiesTest {

    record Model(Map<String, GgufValue> metadata, List<Tensor> tensors, int version) {
        byte[] bytes() {
            GgufWriter w = new GgufWriter().version(version);
            metadata.forEach(w::put);
            for (Tensor t : tensors) w.addTensor(t.name, t.type, t.dims, t.data);
            return w.toByteArray();
        }
    }

    record Tensor(String name, GgufTensorType type, long[] dims, byte[] data) {
    }

    @Provide
    Arbitrary<Model> models() {
        Arbitrary<Map<String, GgufValue>> metadata = Arbitraries.maps(
                Arbitraries.strings().withCharRange('a', 'z').withChars('.', '_').ofMinLength(1).ofMaxLength(12),
                value(2)).ofMaxSize(8).map(LinkedHashMap::new);
        Arbitrary<List<Tensor>> tensors = tensor().list().ofMaxSize(3).map(l -> {
            // unique names
            List<Tensor> out = new java.util.ArrayList<>();
            for (int i = 0; i < l.size(); i++) {
                Tensor t = l.get(i);
                out.add(new Tensor(t.name + "." + i, t.type, t.dims, t.data));
            }
            return out;
        });
        return Combinators.combine(metadata, tensors, Arbitraries.of(2, 3)).as(Model::new);
    }

    Arbitrary<Tensor> tensor() {
        Arbitrary<long[]> dims = Arbitraries.longs().between(1, 3).array(long[].class).ofMinSize(1).ofMaxSize(4);
        return Combinators.combine(Arbitraries.of(GgufTensorType.F32, GgufTensorType.Q8_0, GgufTensorType.F16), dims)
                .as((type, d) -> {
                    long[] ds = d.clone();
                    ds[0] *= type.blockSize();
                    long n = 1;
                    for (long x : ds) n *= x;
                    byte[] data = new byte[(int) type.byteSize(n)];
                    Arrays.fill(data, (byte) 0x5a);
                    return new Tensor("w", type, ds, data);
                });
    }

    Arbitrary<String> text() {
        return Arbitraries.strings().withCharRange(' ', '~').withChars('é', '世', '▁', '\n', '\0').ofMaxLength(10);
    }

    Arbitrary<GgufValue> value(int depth) {
        List<Arbitrary<GgufValue>> scalars = List.of(
                Arbitraries.integers().between(0, 255).map(GgufValue::uint8),
                Arbitraries.integers().between(-128, 127).map(GgufValue::int8),
                Arbitraries.integers().between(0, 65535).map(GgufValue::uint16),
                Arbitraries.integers().between(-32768, 32767).map(GgufValue::int16),
                Arbitraries.integers().map(GgufValue::int32),
                Arbitraries.longs().between(0, 0xFFFF_FFFFL).map(GgufValue::uint32),
                Arbitraries.longs().map(GgufValue::uint64),
                Arbitraries.longs().map(GgufValue::int64),
                Arbitraries.floats().map(GgufValue::float32),
                Arbitraries.doubles().map(GgufValue::float64),
                Arbitraries.of(true, false).map(GgufValue::bool),
                text().map(GgufValue::string),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(6).map(a -> GgufValue.array(GgufValueType.UINT8, a)),
                Arbitraries.shorts().array(short[].class).ofMaxSize(6).map(a -> GgufValue.array(GgufValueType.INT16, a)),
                Arbitraries.integers().array(int[].class).ofMaxSize(6).map(a -> GgufValue.array(GgufValueType.UINT32, a)),
                Arbitraries.longs().array(long[].class).ofMaxSize(6).map(a -> GgufValue.array(GgufValueType.INT64, a)),
                Arbitraries.floats().array(float[].class).ofMaxSize(6).map(GgufValue::float32Array),
                Arbitraries.doubles().array(double[].class).ofMaxSize(6).map(a -> GgufValue.array(GgufValueType.FLOAT64, a)),
                Arbitraries.of(true, false).list().ofMaxSize(6).map(l -> {
                    boolean[] b = new boolean[l.size()];
                    for (int i = 0; i < b.length; i++) b[i] = l.get(i);
                    return GgufValue.array(GgufValueType.BOOL, b);
                }),
                text().list().ofMaxSize(6).map(GgufValue::stringArray));
        if (depth == 0) return Arbitraries.oneOf(scalars);
        Arbitrary<GgufValue> nested = value(depth - 1).filter(v -> v.type() == GgufValueType.ARRAY)
                .list().ofMaxSize(3).map(GgufValue::arrayOfArrays);
        List<Arbitrary<GgufValue>> all = new java.util.ArrayList<>(scalars);
        all.add(nested);
        return Arbitraries.oneOf(all);
    }

    @Property(tries = 200)
    void writtenFilesReadBackUnchanged(@ForAll("models") Model m) throws Exception {
        byte[] bytes = m.bytes();
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(bytes))) {
            assertEquals(m.version(), f.version());
            assertEquals(m.metadata(), f.metadata().asMap());
            assertEquals(m.tensors().size(), f.tensors().size());
            for (int i = 0; i < m.tensors().size(); i++) {
                Tensor t = m.tensors().get(i);
                TensorInfo info = f.tensors().get(i);
                assertEquals(t.name(), info.name());
                assertEquals(t.type(), info.type());
                assertTrue(Arrays.equals(t.dims(), info.dims()));
                assertTrue(Arrays.equals(t.data(), f.tensorData(info).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
            }
        }
    }

    @Property(tries = 300)
    void truncatedFilesFailWithAFormatError(@ForAll("models") Model m, @ForAll @IntRange(min = 0, max = 1 << 20) int cutSeed) {
        byte[] full = m.bytes();
        int len = cutSeed % full.length;
        byte[] cut = Arrays.copyOf(full, len);
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(cut))) {
            // Only trailing alignment padding may be missing.
            assertTrue(len > full.length - 32, "parsed a file cut to " + len + " of " + full.length + " bytes");
            for (TensorInfo t : f.tensors()) f.tensorData(t);
        } catch (GgufFormatException e) {
            assertTrue(e.getMessage().startsWith("offset "), e.getMessage());
        }
    }

    @Property(tries = 1000)
    void corruptedHeadersFailOnlyWithAFormatError(@ForAll("models") Model m,
                                                   @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 0, max = 1 << 20) Integer> positions,
                                                   @ForAll byte value) {
        byte[] bytes = m.bytes();
        int headerEnd;
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(bytes))) {
            headerEnd = (int) Math.min(f.dataOffset(), bytes.length);
        } catch (GgufFormatException e) {
            throw new AssertionError(e);
        }
        for (int p : positions) bytes[p % headerEnd] ^= (byte) (value == 0 ? 1 : value);
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(bytes))) {
            for (TensorInfo t : f.tensors()) f.tensorData(t); // whatever parsed must be in bounds
            f.metadata().asMap().values().forEach(GgufValue::toString);
        } catch (GgufFormatException e) {
            assertTrue(e.getMessage().startsWith("offset "), e.getMessage());
        }
    }
}
