package io.tandem.model.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the header, metadata and tensor infos of a GGUF file from a memory segment. Every length and
 * count is checked against the bytes that remain before anything is allocated, so a corrupt file fails
 * with a {@link GgufFormatException} naming the offset, never with an unchecked exception.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    static final String ALIGNMENT_KEY = "general.alignment";
    private static final int MAX_ARRAY_DEPTH = 16;
    private static final long MIN_KV_BYTES = 8 + 4 + 1; // key length, type, smallest value
    private static final long MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8; // name length, n_dims, type, offset

    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * What the parser found: everything except the tensor data, which stays in the segment. {@code encodedValues}
     * gives, per metadata key, the file offsets {@code [start, end)} of its type id and value.
     */
    record Header(int version, GgufMetadata metadata, List<TensorInfo> tensors, int alignment, long dataOffset,
                  Map<String, long[]> encodedValues) {
    }

    private final MemorySegment seg;
    private final long size;
    private long pos;
    private byte[] stringBuffer = new byte[256];

    private GgufParser(MemorySegment seg) {
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static Header parse(MemorySegment segment) throws GgufFormatException {
        return new GgufParser(segment).header();
    }

    private Header header() throws GgufFormatException {
        if (size < 4) throw new GgufFormatException(0, "expected magic 'GGUF', but the file has only " + size + " bytes");
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw new GgufFormatException(0, "expected magic 'GGUF' (47 47 55 46), got " + hex(0, 4));
        }
        pos = 4;
        long versionAt = pos;
        int version = u32("version");
        if (version != 2 && version != 3) {
            String why = version == 1 ? "GGUF version 1 is not supported (only versions 2 and 3)"
                    : (version & 0xFFFF) == 0 && version != 0
                    ? "version field " + Integer.toUnsignedString(version) + " looks big-endian; only little-endian GGUF files are supported"
                    : "unsupported GGUF version " + Integer.toUnsignedString(version) + " (expected 2 or 3)";
            throw new GgufFormatException(versionAt, why);
        }
        long tensorCount = count("tensor count", MIN_TENSOR_INFO_BYTES);
        long kvCount = count("metadata key/value count", MIN_KV_BYTES);

        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        Map<String, long[]> encoded = new HashMap<>();
        int alignment = DEFAULT_ALIGNMENT;
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            String key = string("metadata key");
            if (kv.containsKey(key)) throw new GgufFormatException(keyAt, "duplicate metadata key '" + key + "'");
            long typeAt = pos;
            GgufValueType type = valueType("metadata value type of key '" + key + "'");
            long valueAt = pos;
            GgufValue value = value(type, key, 0);
            if (key.equals(ALIGNMENT_KEY)) {
                if (type != GgufValueType.UINT32) {
                    throw new GgufFormatException(typeAt, "expected " + ALIGNMENT_KEY + " of type uint32, got " + value.typeName());
                }
                long a = (Long) value.value();
                if (a == 0 || Long.bitCount(a) != 1 || a > (1 << 30)) {
                    throw new GgufFormatException(valueAt, "expected " + ALIGNMENT_KEY + " to be a power of two, got " + a);
                }
                alignment = (int) a;
            }
            kv.put(key, value);
            encoded.put(key, new long[] {typeAt, pos});
        }

        List<TensorInfo> tensors = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
        Map<String, Long> offsetFieldPositions = new HashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            long nameAt = pos;
            String name = string("tensor name");
            if (offsetFieldPositions.containsKey(name)) {
                throw new GgufFormatException(nameAt, "duplicate tensor name '" + name + "'");
            }
            long dimsAt = pos;
            int nDims = u32("number of dimensions of tensor '" + name + "'");
            if (nDims < 0 || nDims > MAX_DIMS) {
                throw new GgufFormatException(dimsAt, "expected at most " + MAX_DIMS + " dimensions for tensor '" + name
                        + "', got " + Integer.toUnsignedString(nDims));
            }
            long[] dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dimAt = pos;
                dims[d] = u64("dimension " + d + " of tensor '" + name + "'");
                if (dims[d] < 0) {
                    throw new GgufFormatException(dimAt, "expected a dimension below 2^63 for tensor '" + name
                            + "', got " + Long.toUnsignedString(dims[d]));
                }
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException(dimAt, "element count of tensor '" + name + "' overflows 64 bits");
                }
            }
            long typeAt = pos;
            int typeId = u32("ggml type of tensor '" + name + "'");
            GgufTensorType type = GgufTensorType.byId(Integer.toUnsignedLong(typeId));
            if (type == null) {
                throw new GgufFormatException(typeAt, "unknown ggml tensor type " + Integer.toUnsignedString(typeId)
                        + " for tensor '" + name + "'");
            }
            long rowLength = nDims > 0 ? dims[0] : 1;
            if (rowLength % type.blockSize() != 0) {
                throw new GgufFormatException(dimsAt + 4, "expected dimension 0 of " + type + " tensor '" + name
                        + "' to be a multiple of the block size " + type.blockSize() + ", got " + rowLength);
            }
            long offsetAt = pos;
            long offset = u64("data offset of tensor '" + name + "'");
            if (offset < 0) {
                throw new GgufFormatException(offsetAt, "expected the data offset of tensor '" + name
                        + "' below 2^63, got " + Long.toUnsignedString(offset));
            }
            if (offset % alignment != 0) {
                throw new GgufFormatException(offsetAt, "expected the data offset of tensor '" + name
                        + "' to be a multiple of the alignment " + alignment + ", got " + Long.toUnsignedString(offset));
            }
            long bytes = (elements / type.blockSize()) > Long.MAX_VALUE / type.bytesPerBlock() ? -1
                    : (elements / type.blockSize()) * type.bytesPerBlock();
            if (bytes < 0) throw new GgufFormatException(dimsAt, "byte size of tensor '" + name + "' overflows 64 bits");
            tensors.add(new TensorInfo(name, type, dims, offset, bytes, elements));
            offsetFieldPositions.put(name, offsetAt);
        }

        long dataOffset = align(pos, alignment);
        for (TensorInfo t : tensors) {
            long available = size - dataOffset; // may be negative when the padding is missing
            if (available < 0 || t.offset() > available || t.byteSize() > available - t.offset()) {
                throw new GgufFormatException(offsetFieldPositions.get(t.name()), "expected the data of tensor '" + t.name()
                        + "' (" + t.byteSize() + " bytes at data offset " + t.offset() + ", file offset "
                        + (dataOffset + t.offset()) + ") to lie inside the file of " + size + " bytes");
            }
        }
        return new Header(version, GgufMetadata.wrap(kv), List.copyOf(tensors), alignment, dataOffset,
                Collections.unmodifiableMap(encoded));
    }

    static long align(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private GgufValue value(GgufValueType type, String key, int depth) throws GgufFormatException {
        String what = "value of key '" + key + "'";
        return switch (type) {
            case UINT8 -> GgufValue.uint8(Byte.toUnsignedInt(u8(what)));
            case INT8 -> GgufValue.int8(u8(what));
            case UINT16 -> GgufValue.uint16(Short.toUnsignedInt(i16(what)));
            case INT16 -> GgufValue.int16(i16(what));
            case UINT32 -> GgufValue.uint32(Integer.toUnsignedLong(u32(what)));
            case INT32 -> GgufValue.int32(u32(what));
            case UINT64 -> GgufValue.uint64(u64(what));
            case INT64 -> GgufValue.int64(u64(what));
            case FLOAT32 -> GgufValue.float32(Float.intBitsToFloat(u32(what)));
            case FLOAT64 -> GgufValue.float64(Double.longBitsToDouble(u64(what)));
            case BOOL -> GgufValue.bool(bool(what));
            case STRING -> GgufValue.string(string(what));
            case ARRAY -> array(key, depth);
        };
    }

    private GgufValue array(String key, int depth) throws GgufFormatException {
        long at = pos;
        if (depth >= MAX_ARRAY_DEPTH) {
            throw new GgufFormatException(at, "expected arrays nested at most " + MAX_ARRAY_DEPTH + " deep in key '" + key + "'");
        }
        GgufValueType elem = valueType("array element type of key '" + key + "'");
        String what = "array[" + elem.specName() + "] of key '" + key + "'";
        int minBytes = switch (elem) {
            case STRING -> 8;
            case ARRAY -> 4 + 8;
            default -> elem.fixedSize();
        };
        int n = arrayCount(what, minBytes);
        Object values = switch (elem) {
            case UINT8, INT8 -> copy(ValueLayout.JAVA_BYTE, new byte[n], n, 1);
            case UINT16, INT16 -> copy(U16, new short[n], n, 2);
            case UINT32, INT32 -> copy(U32, new int[n], n, 4);
            case UINT64, INT64 -> copy(U64, new long[n], n, 8);
            case FLOAT32 -> copy(F32, new float[n], n, 4);
            case FLOAT64 -> copy(F64, new double[n], n, 8);
            case BOOL -> {
                boolean[] b = new boolean[n];
                for (int i = 0; i < n; i++) b[i] = bool("element " + i + " of " + what);
                yield b;
            }
            case STRING -> {
                String[] s = new String[n];
                for (int i = 0; i < n; i++) s[i] = string("element " + i + " of " + what);
                yield Collections.unmodifiableList(Arrays.asList(s));
            }
            case ARRAY -> {
                GgufValue[] a = new GgufValue[n];
                for (int i = 0; i < n; i++) a[i] = array(key, depth + 1);
                yield Collections.unmodifiableList(Arrays.asList(a));
            }
        };
        return GgufValue.array(elem, values);
    }

    private <A> A copy(ValueLayout layout, A dst, int n, int elemSize) {
        MemorySegment.copy(seg, layout, pos, dst, 0, n);
        pos += (long) n * elemSize;
        return dst;
    }

    /** Reads an array count and checks that {@code count * minBytes} bytes remain. */
    private int arrayCount(String what, int minBytes) throws GgufFormatException {
        long at = pos;
        long n = count("element count of " + what, minBytes);
        if (n > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException(at, "expected at most " + (Integer.MAX_VALUE - 8) + " elements in " + what + ", got " + n);
        }
        return (int) n;
    }

    /** Reads a u64 count of items of at least {@code minBytes} each and checks it against the remaining bytes. */
    private long count(String what, long minBytes) throws GgufFormatException {
        long at = pos;
        long n = u64(what);
        long max = (size - pos) / minBytes;
        if (n < 0 || n > max) {
            throw new GgufFormatException(at, "expected " + what + " <= " + max + " (" + (size - pos)
                    + " remaining bytes, at least " + minBytes + " per item), got " + Long.toUnsignedString(n));
        }
        return n;
    }

    private GgufValueType valueType(String what) throws GgufFormatException {
        long at = pos;
        int id = u32(what);
        GgufValueType t = GgufValueType.byId(Integer.toUnsignedLong(id));
        if (t == null) {
            throw new GgufFormatException(at, "expected " + what + " in 0..12, got " + Integer.toUnsignedString(id));
        }
        return t;
    }

    private String string(String what) throws GgufFormatException {
        long at = pos;
        long len = u64("length of " + what);
        long remaining = size - pos;
        if (len < 0 || len > remaining) {
            throw new GgufFormatException(at, "expected " + what + " length <= " + remaining + " remaining bytes, got "
                    + Long.toUnsignedString(len));
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException(at, "expected " + what + " length < 2^31, got " + len);
        }
        int n = (int) len;
        if (stringBuffer.length < n) stringBuffer = new byte[Math.max(n, stringBuffer.length * 2)];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, stringBuffer, 0, n);
        pos += n;
        return new String(stringBuffer, 0, n, StandardCharsets.UTF_8);
    }

    private boolean bool(String what) throws GgufFormatException {
        long at = pos;
        byte b = u8(what);
        if (b != 0 && b != 1) throw new GgufFormatException(at, "expected " + what + " to be a bool (0 or 1), got " + Byte.toUnsignedInt(b));
        return b == 1;
    }

    private void need(long n, String what) throws GgufFormatException {
        if (n > size - pos) {
            throw new GgufFormatException(pos, "expected " + what + " (" + n + " bytes), but only " + (size - pos)
                    + " bytes remain (file truncated?)");
        }
    }

    private byte u8(String what) throws GgufFormatException {
        need(1, what);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    private short i16(String what) throws GgufFormatException {
        need(2, what);
        short v = seg.get(U16, pos);
        pos += 2;
        return v;
    }

    private int u32(String what) throws GgufFormatException {
        need(4, what);
        int v = seg.get(U32, pos);
        pos += 4;
        return v;
    }

    private long u64(String what) throws GgufFormatException {
        need(8, what);
        long v = seg.get(U64, pos);
        pos += 8;
        return v;
    }

    private String hex(long from, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(' ');
            sb.append(String.format("%02x", seg.get(ValueLayout.JAVA_BYTE, from + i)));
        }
        return sb.toString();
    }
}
