package io.tandem.model.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order. Typed getters convert between compatible numeric
 * types and throw {@link IllegalArgumentException} naming the key when the stored type does not fit.
 * Immutable and thread-safe.
 */
public final class GgufMetadata {
    private final Map<String, GgufValue> values;

    private GgufMetadata(Map<String, GgufValue> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /** Metadata holding these entries, in the map's iteration order. */
    public static GgufMetadata of(Map<String, GgufValue> values) {
        return new GgufMetadata(new LinkedHashMap<>(values));
    }

    static GgufMetadata wrap(LinkedHashMap<String, GgufValue> values) {
        return new GgufMetadata(values);
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public int size() {
        return values.size();
    }

    /** All entries in file order. */
    public Map<String, GgufValue> asMap() {
        return values;
    }

    /** The typed value, or null when absent. */
    public GgufValue value(String key) {
        return values.get(key);
    }

    /** The Java value (see {@link GgufValue}), or null when absent. */
    public Object get(String key) {
        GgufValue v = values.get(key);
        return v == null ? null : v.value();
    }

    /** The string value; throws {@link IllegalArgumentException} when absent or not a string. */
    public String getString(String key) {
        return (String) require(key, GgufValueType.STRING).value();
    }

    public String getString(String key, String def) {
        GgufValue v = values.get(key);
        return v == null ? def : (String) checkType(key, v, GgufValueType.STRING).value();
    }

    /** Any integer type as a long (UINT64 as raw bits); {@code def} when absent. */
    public long getLong(String key, long def) {
        GgufValue v = values.get(key);
        if (v == null) return def;
        if (!v.type().isInteger()) throw wrongType(key, v, "an integer");
        return ((Number) v.value()).longValue();
    }

    /** Any integer type whose value fits an int; {@code def} when absent. */
    public int getInt(String key, int def) {
        GgufValue v = values.get(key);
        if (v == null) return def;
        long l = getLong(key, def);
        if (l != (int) l || (v.type() == GgufValueType.UINT64 && l < 0)) {
            throw new IllegalArgumentException("metadata key '" + key + "' = " + Long.toUnsignedString(l)
                    + " does not fit an int");
        }
        return (int) l;
    }

    /** Any numeric type as a float; {@code def} when absent. */
    public float getFloat(String key, float def) {
        GgufValue v = values.get(key);
        if (v == null) return def;
        if (v.type() == GgufValueType.BOOL || v.type() == GgufValueType.STRING || v.type() == GgufValueType.ARRAY) {
            throw wrongType(key, v, "a number");
        }
        return ((Number) v.value()).floatValue();
    }

    public boolean getBool(String key, boolean def) {
        GgufValue v = values.get(key);
        return v == null ? def : (Boolean) checkType(key, v, GgufValueType.BOOL).value();
    }

    /** An array of strings (unmodifiable, not copied); throws when absent or of another type. */
    @SuppressWarnings("unchecked")
    public List<String> getStringArray(String key) {
        GgufValue v = requireArray(key);
        if (v.elementType() != GgufValueType.STRING) throw wrongType(key, v, "array[string]");
        return (List<String>) v.value();
    }

    /** An array of float32 or float64 as a new float[]; throws when absent or of another type. */
    public float[] getFloatArray(String key) {
        GgufValue v = requireArray(key);
        return switch (v.value()) {
            case float[] f -> f.clone();
            case double[] d -> {
                float[] f = new float[d.length];
                for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
                yield f;
            }
            default -> throw wrongType(key, v, "array[float32]");
        };
    }

    /**
     * An array of 8-, 16- or 32-bit integers as a new int[] (signed types sign-extended, unsigned
     * zero-extended, UINT32 as raw bits); throws when absent or of another type.
     */
    public int[] getIntArray(String key) {
        GgufValue v = requireArray(key);
        boolean unsigned = v.elementType() == GgufValueType.UINT8 || v.elementType() == GgufValueType.UINT16;
        return switch (v.value()) {
            case int[] a -> a.clone();
            case short[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) r[i] = unsigned ? Short.toUnsignedInt(a[i]) : a[i];
                yield r;
            }
            case byte[] a -> {
                int[] r = new int[a.length];
                for (int i = 0; i < a.length; i++) r[i] = unsigned ? Byte.toUnsignedInt(a[i]) : a[i];
                yield r;
            }
            default -> throw wrongType(key, v, "array of 8/16/32-bit integers");
        };
    }

    private GgufValue require(String key, GgufValueType type) {
        GgufValue v = values.get(key);
        if (v == null) throw new IllegalArgumentException("missing metadata key '" + key + "'");
        return checkType(key, v, type);
    }

    private GgufValue requireArray(String key) {
        return require(key, GgufValueType.ARRAY);
    }

    private static GgufValue checkType(String key, GgufValue v, GgufValueType type) {
        if (v.type() != type) throw wrongType(key, v, type.specName());
        return v;
    }

    private static IllegalArgumentException wrongType(String key, GgufValue v, String expected) {
        return new IllegalArgumentException("metadata key '" + key + "' is " + v.typeName() + ", expected "
                + expected);
    }

    @Override
    public String toString() {
        return "GgufMetadata" + keys();
    }
}
