package io.tandem.model.gguf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each case writes a valid file, corrupts one field and expects a GgufFormatException naming the offset. */
class GgufMalformedFileTest {

    static GgufWriter base() {
        return new GgufWriter()
                .putString("general.architecture", "llama")
                .putString("k.str", "hello")
                .putInt32Array("k.arr", 1, 2, 3)
                .putStringArray("k.strs", List.of("ab", "cd"))
                .putUInt32("k.u32", 7)
                .putBool("k.bool", true)
                .putString("dup.1", "x")
                .putString("dup.2", "y")
                .addF32Tensor("t.one", new long[] {4, 2}, new float[8])
                .addTensor("t.two", GgufTensorType.Q8_0, new long[] {32}, new byte[34]);
    }

    /** A little-endian view of a valid file with helpers to find and patch fields. */
    static final class Image {
        final byte[] b;
        final ByteBuffer bb;

        Image(byte[] b) {
            this.b = b;
            this.bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        }

        /** Offset of the first occurrence of the UTF-8 text. */
        int find(String s) {
            byte[] p = s.getBytes(StandardCharsets.UTF_8);
            outer:
            for (int i = 0; i + p.length <= b.length; i++) {
                for (int j = 0; j < p.length; j++) if (b[i + j] != p[j]) continue outer;
                return i;
            }
            throw new AssertionError(s + " not found");
        }

        /** Offset just after the key string of a metadata entry or the name of a tensor info. */
        int after(String key) {
            return find(key) + key.length();
        }

        Image u32(int at, int v) { bb.putInt(at, v); return this; }
        Image u64(int at, long v) { bb.putLong(at, v); return this; }
        Image u8(int at, int v) { b[at] = (byte) v; return this; }
        long u64(int at) { return bb.getLong(at); }
    }

    static Image image() {
        return new Image(base().toByteArray());
    }

    static GgufFormatException fails(byte[] bytes, long expectedOffset, String... messageParts) {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.parse(MemorySegment.ofArray(bytes)));
        assertTrue(e.getMessage().matches("(?s)offset \\d+: .+"), e.getMessage());
        if (expectedOffset >= 0) assertEquals(expectedOffset, e.offset(), e.getMessage());
        for (String part : messageParts) assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        return e;
    }

    @Test
    void baseFileIsValid() throws Exception {
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(image().b))) {
            assertEquals(2, f.tensors().size());
        }
    }

    @Test
    void badMagic() {
        Image i = image().u8(0, 'X');
        fails(i.b, 0, "expected magic 'GGUF'");
        fails(new byte[0], 0, "only 0 bytes");
        fails("GG".getBytes(StandardCharsets.US_ASCII), 0, "only 2 bytes");
    }

    @Test
    void unsupportedVersions() {
        fails(image().u32(4, 1).b, 4, "version 1 is not supported");
        fails(image().u32(4, 4).b, 4, "unsupported GGUF version 4");
        fails(image().u32(4, 0x03000000).b, 4, "big-endian");
    }

    @Test
    void bogusCounts() {
        fails(image().u64(8, 1L << 60).b, 8, "tensor count <=", "got 1152921504606846976");
        fails(image().u64(16, 1L << 62).b, 16, "metadata key/value count <=");
        fails(image().u64(16, -1L).b, 16, "got 18446744073709551615");
    }

    @Test
    void bogusStringLengths() {
        Image i = image();
        int keyLen = i.find("k.str") - 8;
        fails(i.u64(keyLen, 1L << 60).b, keyLen, "expected metadata key length <=", "remaining bytes, got 1152921504606846976");
        i = image();
        int valueLen = i.after("k.str") + 4;
        fails(i.u64(valueLen, 1L << 60).b, valueLen, "expected value of key 'k.str' length <=");
        i = image();
        fails(i.u64(valueLen, Long.MIN_VALUE).b, valueLen, "got 9223372036854775808");
        i = image();
        int tensorName = i.find("t.two") - 8;
        fails(i.u64(tensorName, i.b.length).b, tensorName, "tensor name length <=");
    }

    @Test
    void bogusArrayCounts() {
        Image i = image();
        int count = i.after("k.arr") + 4 + 4;
        assertEquals(3, i.u64(count));
        fails(i.u64(count, 1L << 60).b, count, "element count of array[int32] of key 'k.arr' <=");
        i = image();
        long justTooMany = (i.b.length - count - 8) / 4 + 1;
        fails(i.u64(count, justTooMany).b, count, "got " + justTooMany);
        i = image();
        int strCount = i.after("k.strs") + 8;
        fails(i.u64(strCount, 1L << 61).b, strCount, "array[string] of key 'k.strs'");
    }

    @Test
    void unknownValueTypes() {
        Image i = image();
        int type = i.after("k.u32");
        fails(i.u32(type, 13).b, type, "metadata value type of key 'k.u32' in 0..12, got 13");
        i = image();
        int elem = i.after("k.arr") + 4;
        fails(i.u32(elem, 99).b, elem, "array element type of key 'k.arr' in 0..12, got 99");
        i = image();
        int bool = i.after("k.bool") + 4;
        fails(i.u8(bool, 2).b, bool, "bool (0 or 1), got 2");
    }

    @Test
    void duplicateKeysAndTensorNames() {
        Image i = image();
        int second = i.find("dup.2");
        i.u8(second + 4, '1');
        fails(i.b, second - 8, "duplicate metadata key 'dup.1'");
        i = image();
        int two = i.find("t.two");
        System.arraycopy("t.one".getBytes(StandardCharsets.US_ASCII), 0, i.b, two, 5);
        fails(i.b, two - 8, "duplicate tensor name 't.one'");
    }

    @Test
    void tooManyDimensions() {
        Image i = image();
        int nDims = i.after("t.one");
        fails(i.u32(nDims, 5).b, nDims, "at most 4 dimensions for tensor 't.one', got 5");
    }

    @Test
    void badDimensions() {
        Image i = image();
        int dim0 = i.after("t.one") + 4;
        fails(i.u64(dim0, Long.MIN_VALUE).b, dim0, "dimension below 2^63");
        i = image();
        i.u64(dim0, 1L << 62).u64(dim0 + 8, 8);
        fails(i.b, dim0 + 8, "overflows 64 bits");
        i = image();
        int q8dim0 = i.after("t.two") + 4;
        fails(i.u64(q8dim0, 16).b, q8dim0, "multiple of the block size 32, got 16");
    }

    @Test
    void unknownTensorTypes() {
        Image i = image();
        int type = i.after("t.one") + 4 + 2 * 8;
        assertEquals(0, i.bb.getInt(type));
        fails(i.u32(type, 4).b, type, "unknown ggml tensor type 4 for tensor 't.one'");
        fails(image().u32(type, 1000).b, type, "unknown ggml tensor type 1000");
    }

    @Test
    void misalignedTensorOffset() {
        Image i = image();
        int offset = i.after("t.two") + 4 + 8 + 4;
        assertEquals(32, i.u64(offset));
        fails(i.u64(offset, 33).b, offset, "multiple of the alignment 32, got 33");
    }

    @Test
    void tensorDataOutsideTheFile() {
        Image i = image();
        int offset = i.after("t.two") + 4 + 8 + 4;
        fails(i.u64(offset, 1L << 40).b, offset, "tensor 't.two'", "inside the file");
        i = image();
        fails(i.u64(offset, -32L).b, offset, "below 2^63");
        i = image();
        fails(i.u64(offset, 0x7FFF_FFFF_FFFF_FFE0L).b, offset, "inside the file");
    }

    @Test
    void badAlignment() {
        Image i = new Image(base().alignment(64).toByteArray());
        int value = i.after("general.alignment") + 4;
        fails(i.u32(value, 48).b, value, "power of two, got 48");
        i = new Image(base().alignment(64).toByteArray());
        fails(i.u32(value, 0).b, value, "power of two, got 0");
        i = new Image(base().alignment(64).toByteArray());
        fails(i.u32(value - 4, GgufValueType.INT32.id()).b, value - 4, "of type uint32, got int32");
    }

    @Test
    void arraysNestedTooDeep() {
        GgufValue v = GgufValue.int32Array(1);
        for (int d = 0; d < 20; d++) v = GgufValue.arrayOfArrays(List.of(v));
        byte[] b = new GgufWriter().put("deep", v).toByteArray();
        fails(b, -1, "nested at most 16 deep in key 'deep'");
    }

    @Test
    void truncatedAtEveryPosition() throws Exception {
        byte[] full = image().b;
        long required;
        try (GgufFile f = GgufFile.parse(MemorySegment.ofArray(full))) {
            TensorInfo last = f.tensors().getLast();
            required = f.dataOffset() + last.offset() + last.byteSize();
        }
        for (int len = 0; len < full.length; len++) {
            byte[] cut = Arrays.copyOf(full, len);
            if (len < required) {
                fails(cut, -1);
            } else {
                GgufFile.parse(MemorySegment.ofArray(cut)); // only the padding after the last tensor is missing
            }
        }
    }

    @Test
    void openReportsFormatErrorsForFilesToo(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, image().u32(4, 1).b);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.open(p));
        assertEquals(4, e.offset());
        Path empty = dir.resolve("empty.gguf");
        Files.write(empty, new byte[0]);
        assertThrows(GgufFormatException.class, () -> GgufFile.open(empty));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> GgufFile.open(dir.resolve("missing.gguf")));
    }
}
