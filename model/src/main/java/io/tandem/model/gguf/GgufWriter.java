package io.tandem.model.gguf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds GGUF files (version 3 by default, or 2): metadata in insertion order, then tensor infos, then
 * tensor data, each tensor aligned to {@code general.alignment} (default 32). Only valid files can be
 * built: tensor names are unique, dims fit the type's block size and data has exactly the right length.
 */
public final class GgufWriter {
    private int version = 3;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    private record Tensor(String name, GgufTensorType type, long[] dims, MemorySegment data) {
    }

    public GgufWriter version(int version) {
        if (version != 2 && version != 3) throw new IllegalArgumentException("GGUF version must be 2 or 3, got " + version);
        this.version = version;
        return this;
    }

    /** Sets {@code general.alignment}; must be a power of two. */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two, got " + alignment);
        }
        return put(GgufParser.ALIGNMENT_KEY, GgufValue.uint32(alignment));
    }

    /** Adds or replaces a metadata entry (a replaced key keeps its position). */
    public GgufWriter put(String key, GgufValue value) {
        if (key.equals(GgufParser.ALIGNMENT_KEY) && (value.type() != GgufValueType.UINT32
                || Long.bitCount((Long) value.value()) != 1)) {
            throw new IllegalArgumentException(key + " must be a uint32 power of two, got " + value);
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putAll(GgufMetadata m) {
        m.asMap().forEach(this::put);
        return this;
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** A snapshot of the metadata that will be written. */
    public GgufMetadata metadata() {
        return GgufMetadata.of(metadata);
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufValue.string(v)); }
    public GgufWriter putUInt32(String key, long v) { return put(key, GgufValue.uint32(v)); }
    public GgufWriter putInt32(String key, int v) { return put(key, GgufValue.int32(v)); }
    public GgufWriter putUInt64(String key, long v) { return put(key, GgufValue.uint64(v)); }
    public GgufWriter putFloat32(String key, float v) { return put(key, GgufValue.float32(v)); }
    public GgufWriter putBool(String key, boolean v) { return put(key, GgufValue.bool(v)); }
    public GgufWriter putStringArray(String key, List<String> v) { return put(key, GgufValue.stringArray(v)); }
    public GgufWriter putFloat32Array(String key, float... v) { return put(key, GgufValue.float32Array(v)); }
    public GgufWriter putInt32Array(String key, int... v) { return put(key, GgufValue.int32Array(v)); }

    /** Adds a tensor whose raw ggml bytes are {@code data} (not copied until written). */
    public GgufWriter addTensor(String name, GgufTensorType type, long[] dims, MemorySegment data) {
        if (tensors.stream().anyMatch(t -> t.name.equals(name))) {
            throw new IllegalArgumentException("duplicate tensor name '" + name + "'");
        }
        if (dims.length > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + dims.length + " dims, at most 4 allowed");
        }
        long elements = 1;
        for (long d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in tensor '" + name + "'");
            elements = Math.multiplyExact(elements, d);
        }
        if ((dims.length > 0 ? dims[0] : 1) % type.blockSize() != 0) {
            throw new IllegalArgumentException("dimension 0 of " + type + " tensor '" + name
                    + "' must be a multiple of " + type.blockSize());
        }
        long expected = type.byteSize(elements);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' needs " + expected + " bytes of data, got "
                    + data.byteSize());
        }
        tensors.add(new Tensor(name, type, dims.clone(), data));
        return this;
    }

    public GgufWriter addTensor(String name, GgufTensorType type, long[] dims, byte[] data) {
        return addTensor(name, type, dims, MemorySegment.ofArray(data));
    }

    /** Adds an F32 tensor from float values. */
    public GgufWriter addF32Tensor(String name, long[] dims, float[] values) {
        MemorySegment seg = MemorySegment.ofArray(new byte[values.length * 4]);
        MemorySegment.copy(values, 0, seg, GgufParser.F32, 0, values.length);
        return addTensor(name, GgufTensorType.F32, dims, seg);
    }

    /** Writes the file (replacing an existing one). */
    public void write(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeTo(ch);
        }
    }

    public byte[] toByteArray() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeTo(Channels.newChannel(out));
        } catch (IOException e) {
            throw new AssertionError("in-memory write failed", e);
        }
        return out.toByteArray();
    }

    private void writeTo(WritableByteChannel ch) throws IOException {
        int alignment = metadata.containsKey(GgufParser.ALIGNMENT_KEY)
                ? (int) (long) (Long) metadata.get(GgufParser.ALIGNMENT_KEY).value() : GgufParser.DEFAULT_ALIGNMENT;
        Sink h = new Sink();
        h.u32(GgufParser.MAGIC);
        h.u32(version);
        h.u64(tensors.size());
        h.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.string(e.getKey());
            h.u32(e.getValue().type().id());
            h.value(e.getValue());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            h.string(t.name);
            h.u32(t.dims.length);
            for (long d : t.dims) h.u64(d);
            h.u32(t.type.id());
            h.u64(offset);
            offset = GgufParser.align(offset + t.data.byteSize(), alignment);
        }
        h.pad(alignment);
        writeFully(ch, h.buffer());
        byte[] zeros = new byte[alignment];
        for (Tensor t : tensors) {
            writeFully(ch, t.data.asByteBuffer());
            long padding = GgufParser.align(t.data.byteSize(), alignment) - t.data.byteSize();
            writeFully(ch, ByteBuffer.wrap(zeros, 0, (int) padding));
        }
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Little-endian growable byte buffer for the header. */
    private static final class Sink {
        private ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        private void ensure(long n) {
            if (buf.remaining() >= n) return;
            long want = Math.max(buf.capacity() * 2L, buf.position() + n);
            if (want > Integer.MAX_VALUE - 8) throw new IllegalStateException("GGUF header larger than 2 GiB");
            ByteBuffer b = ByteBuffer.allocate((int) want).order(ByteOrder.LITTLE_ENDIAN);
            buf.flip();
            b.put(buf);
            buf = b;
        }

        void u8(int v) { ensure(1); buf.put((byte) v); }
        void u16(int v) { ensure(2); buf.putShort((short) v); }
        void u32(int v) { ensure(4); buf.putInt(v); }
        void u64(long v) { ensure(8); buf.putLong(v); }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            ensure(b.length);
            buf.put(b);
        }

        void pad(int alignment) {
            int n = (int) (GgufParser.align(buf.position(), alignment) - buf.position());
            ensure(n);
            for (int i = 0; i < n; i++) buf.put((byte) 0);
        }

        ByteBuffer buffer() {
            return buf.duplicate().flip();
        }

        void value(GgufValue v) {
            Object o = v.value();
            switch (v.type()) {
                case UINT8, INT8, BOOL -> u8(o instanceof Boolean b ? (b ? 1 : 0) : (Integer) o);
                case UINT16, INT16 -> u16((Integer) o);
                case INT32 -> u32((Integer) o);
                case UINT32 -> u32((int) (long) (Long) o);
                case UINT64, INT64 -> u64((Long) o);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) o));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) o));
                case STRING -> string((String) o);
                case ARRAY -> array(v);
            }
        }

        private void array(GgufValue v) {
            u32(v.elementType().id());
            int n = v.length();
            u64(n);
            MemorySegment src = switch (v.value()) {
                case byte[] a -> MemorySegment.ofArray(a);
                case short[] a -> MemorySegment.ofArray(a);
                case int[] a -> MemorySegment.ofArray(a);
                case long[] a -> MemorySegment.ofArray(a);
                case float[] a -> MemorySegment.ofArray(a);
                case double[] a -> MemorySegment.ofArray(a);
                default -> null;
            };
            if (src != null) {
                int size = v.elementType().fixedSize();
                ensure((long) n * size);
                MemorySegment dst = MemorySegment.ofBuffer(buf).asSlice(0, (long) n * size);
                copyLittleEndian(src, dst, size, n);
                buf.position(buf.position() + n * size);
                return;
            }
            switch (v.value()) {
                case boolean[] a -> { for (boolean b : a) u8(b ? 1 : 0); }
                case List<?> l when v.elementType() == GgufValueType.STRING -> { for (Object s : l) string((String) s); }
                case List<?> l -> { for (Object a : l) array((GgufValue) a); }
                default -> throw new AssertionError(v);
            }
        }

        private static void copyLittleEndian(MemorySegment src, MemorySegment dst, int size, int n) {
            ValueLayout srcLayout = switch (size) {
                case 1 -> ValueLayout.JAVA_BYTE;
                case 2 -> ValueLayout.JAVA_SHORT_UNALIGNED;
                case 4 -> ValueLayout.JAVA_INT_UNALIGNED;
                default -> ValueLayout.JAVA_LONG_UNALIGNED;
            };
            ValueLayout dstLayout = srcLayout.withOrder(ByteOrder.LITTLE_ENDIAN);
            MemorySegment.copy(src, srcLayout, 0, dst, dstLayout, 0, n);
        }
    }
}
