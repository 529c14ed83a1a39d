package io.tandem.model.gguf;

import java.util.List;
import java.util.Objects;

/**
 * A typed GGUF metadata value. Java representation of {@link #value()}:
 * UINT8, INT8, UINT16, INT16, INT32 → {@code Integer}; UINT32, INT64, UINT64 → {@code Long} (UINT64 keeps
 * its raw bits); FLOAT32 → {@code Float}; FLOAT64 → {@code Double}; BOOL → {@code Boolean}; STRING →
 * {@code String}. For ARRAY, {@link #elementType()} is the element type and the value is a primitive array
 * holding the raw bits ({@code byte[]} for UINT8/INT8, {@code short[]} for UINT16/INT16, {@code int[]} for
 * UINT32/INT32, {@code long[]} for UINT64/INT64, {@code float[]}, {@code double[]}, {@code boolean[]}),
 * an unmodifiable {@code List<String>} for strings, or an unmodifiable {@code List<GgufValue>} of ARRAY
 * values for nested arrays. Arrays are shared, not copied: do not modify them.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if (type == GgufValueType.ARRAY) {
            Objects.requireNonNull(elementType, "elementType");
            checkArray(elementType, value);
        } else {
            if (elementType != null) throw new IllegalArgumentException("only arrays have an element type");
            checkScalar(type, value);
        }
    }

    public static GgufValue uint8(int v) { return ranged(GgufValueType.UINT8, v, 0, 0xFF); }
    public static GgufValue int8(int v) { return ranged(GgufValueType.INT8, v, Byte.MIN_VALUE, Byte.MAX_VALUE); }
    public static GgufValue uint16(int v) { return ranged(GgufValueType.UINT16, v, 0, 0xFFFF); }
    public static GgufValue int16(int v) { return ranged(GgufValueType.INT16, v, Short.MIN_VALUE, Short.MAX_VALUE); }
    public static GgufValue int32(int v) { return new GgufValue(GgufValueType.INT32, null, v); }
    public static GgufValue uint32(long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) throw new IllegalArgumentException("uint32 out of range: " + v);
        return new GgufValue(GgufValueType.UINT32, null, v);
    }
    /** A uint64; values above {@code Long.MAX_VALUE} are given as their (negative) two's-complement bits. */
    public static GgufValue uint64(long v) { return new GgufValue(GgufValueType.UINT64, null, v); }
    public static GgufValue int64(long v) { return new GgufValue(GgufValueType.INT64, null, v); }
    public static GgufValue float32(float v) { return new GgufValue(GgufValueType.FLOAT32, null, v); }
    public static GgufValue float64(double v) { return new GgufValue(GgufValueType.FLOAT64, null, v); }
    public static GgufValue bool(boolean v) { return new GgufValue(GgufValueType.BOOL, null, v); }
    public static GgufValue string(String v) { return new GgufValue(GgufValueType.STRING, null, v); }

    /** An array of {@code elementType} given as the Java array described in the class comment. */
    public static GgufValue array(GgufValueType elementType, Object values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, values);
    }
    public static GgufValue stringArray(List<String> values) {
        return array(GgufValueType.STRING, List.copyOf(values));
    }
    public static GgufValue int32Array(int... values) { return array(GgufValueType.INT32, values); }
    public static GgufValue float32Array(float... values) { return array(GgufValueType.FLOAT32, values); }
    public static GgufValue arrayOfArrays(List<GgufValue> arrays) {
        return array(GgufValueType.ARRAY, List.copyOf(arrays));
    }

    /** Number of elements of an array value. */
    public int length() {
        if (type != GgufValueType.ARRAY) throw new IllegalStateException(type.specName() + " is not an array");
        return value instanceof List<?> l ? l.size() : java.lang.reflect.Array.getLength(value);
    }

    /** Human-readable type, e.g. {@code uint32} or {@code array[string]}. */
    public String typeName() {
        return type == GgufValueType.ARRAY ? "array[" + elementType.specName() + "]" : type.specName();
    }

    private static GgufValue ranged(GgufValueType t, int v, int min, int max) {
        if (v < min || v > max) throw new IllegalArgumentException(t.specName() + " out of range: " + v);
        return new GgufValue(t, null, v);
    }

    private static void checkScalar(GgufValueType t, Object v) {
        Class<?> expected = switch (t) {
            case UINT8, INT8, UINT16, INT16, INT32 -> Integer.class;
            case UINT32, UINT64, INT64 -> Long.class;
            case FLOAT32 -> Float.class;
            case FLOAT64 -> Double.class;
            case BOOL -> Boolean.class;
            case STRING -> String.class;
            case ARRAY -> throw new AssertionError();
        };
        if (!expected.isInstance(v)) {
            throw new IllegalArgumentException(t.specName() + " value must be a " + expected.getSimpleName()
                    + ", got " + v.getClass().getSimpleName());
        }
    }

    private static void checkArray(GgufValueType e, Object v) {
        boolean ok = switch (e) {
            case UINT8, INT8 -> v instanceof byte[];
            case UINT16, INT16 -> v instanceof short[];
            case UINT32, INT32 -> v instanceof int[];
            case UINT64, INT64 -> v instanceof long[];
            case FLOAT32 -> v instanceof float[];
            case FLOAT64 -> v instanceof double[];
            case BOOL -> v instanceof boolean[];
            case STRING -> v instanceof List<?> l && l.stream().allMatch(String.class::isInstance);
            case ARRAY -> v instanceof List<?> l && l.stream()
                    .allMatch(x -> x instanceof GgufValue g && g.type == GgufValueType.ARRAY);
        };
        if (!ok) {
            throw new IllegalArgumentException("array[" + e.specName() + "] cannot hold a "
                    + v.getClass().getSimpleName());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufValue g && type == g.type && elementType == g.elementType
                && Objects.deepEquals(value, g.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, elementType) * 31 + java.util.Arrays.deepHashCode(new Object[] {value});
    }

    @Override
    public String toString() {
        if (type != GgufValueType.ARRAY) return typeName() + " " + value;
        return typeName() + " (" + length() + " elements)";
    }
}
