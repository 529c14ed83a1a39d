package io.tandem.launcher.options;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The kind of value an option takes, parsed from a flag's text or a conf file's JSON value (a String, Number,
 * Boolean, List or Map as a JSON parser gives them; any Iterable for arrays). A bad value is an
 * {@link IllegalArgumentException} whose message says what was expected and what came (the caller adds the option's
 * name).
 */
public sealed interface ValueType<T> {

    /** What a value must be, e.g. {@code a whole number 0..65535}. */
    String expected();

    T parse(String text);

    T fromJson(Object json);

    /** The flag may be given several times (the values are collected). */
    default boolean repeatable() {
        return false;
    }

    /** The value a flag gives on top of the conf file's: the flag's, except for {@link Settings}, which merge. */
    default T combine(T fromFile, T fromFlag) {
        return fromFlag;
    }

    /** How a default shows in help and the README. */
    default String show(T value) {
        return String.valueOf(value);
    }

    private static IllegalArgumentException invalid(ValueType<?> type, Object got) {
        String shown = got instanceof String s ? "'" + s + "'" : String.valueOf(got);
        return new IllegalArgumentException("must be " + type.expected() + ", got " + shown);
    }

    /** Any text. */
    record Text() implements ValueType<String> {
        public String expected() {
            return "a string";
        }

        public String parse(String text) {
            return text;
        }

        public String fromJson(Object json) {
            if (json instanceof String s) return s;
            throw invalid(this, json);
        }
    }

    /** One of a few words (case-insensitive); the value is the word as declared. */
    record Choice(List<String> values) implements ValueType<String> {
        public Choice {
            values = List.copyOf(values);
        }

        public String expected() {
            return "one of " + String.join(", ", values);
        }

        public String parse(String text) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (String v : values) if (v.equals(t)) return v;
            throw invalid(this, text);
        }

        public String fromJson(Object json) {
            if (json instanceof String s) return parse(s);
            throw invalid(this, json);
        }
    }

    /** A whole number in {@code [min, max]}. */
    record Whole(int min, int max) implements ValueType<Integer> {
        public String expected() {
            return max == Integer.MAX_VALUE ? "a whole number >= " + min : "a whole number " + min + ".." + max;
        }

        public Integer parse(String text) {
            try {
                return check(Long.parseLong(text.trim()), text);
            } catch (NumberFormatException e) {
                throw invalid(this, text);
            }
        }

        public Integer fromJson(Object json) {
            if (json instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return check(n.longValue(), json);
            throw invalid(this, json);
        }

        private Integer check(long v, Object shown) {
            if (v < min || v > max) throw invalid(this, shown);
            return (int) v;
        }
    }

    /** A whole number of bytes or milliseconds, {@code >= min}. */
    record Count(long min) implements ValueType<Long> {
        public String expected() {
            return "a whole number >= " + min;
        }

        public Long parse(String text) {
            try {
                return check(Long.parseLong(text.trim()), text);
            } catch (NumberFormatException e) {
                throw invalid(this, text);
            }
        }

        public Long fromJson(Object json) {
            if (json instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return check(n.longValue(), json);
            throw invalid(this, json);
        }

        private Long check(long v, Object shown) {
            if (v < min) throw invalid(this, shown);
            return v;
        }
    }

    /** A number, {@code > min} when {@code exclusive}, else {@code >= min}. */
    record Decimal(double min, boolean exclusive) implements ValueType<Double> {
        public String expected() {
            return "a number " + (exclusive ? "> " : ">= ") + show(min);
        }

        public Double parse(String text) {
            try {
                return check(Double.parseDouble(text.trim()), text);
            } catch (NumberFormatException e) {
                throw invalid(this, text);
            }
        }

        public Double fromJson(Object json) {
            if (json instanceof Number n) return check(n.doubleValue(), json);
            throw invalid(this, json);
        }

        private Double check(double v, Object shown) {
            if (Double.isNaN(v) || Double.isInfinite(v) || (exclusive ? v <= min : v < min)) throw invalid(this, shown);
            return v;
        }

        @Override
        public String show(Double value) {
            return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString(value.longValue()) : value.toString();
        }
    }

    /** On or off: a flag without a value, {@code true}/{@code false} in a conf file. */
    record Switch() implements ValueType<Boolean> {
        public String expected() {
            return "true or false";
        }

        public Boolean parse(String text) {
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw invalid(this, text);
            };
        }

        public Boolean fromJson(Object json) {
            if (json instanceof Boolean b) return b;
            throw invalid(this, json);
        }

        @Override
        public String show(Boolean value) {
            return value ? "on" : "off";
        }
    }

    /** A file. */
    record FilePath() implements ValueType<Path> {
        public String expected() {
            return "a file name";
        }

        public Path parse(String text) {
            if (text.isBlank()) throw invalid(this, text);
            return Path.of(text);
        }

        public Path fromJson(Object json) {
            if (json instanceof String s) return parse(s);
            throw invalid(this, json);
        }
    }

    /** Several strings: a repeated flag, or a string or array of strings in a conf file. */
    record Texts() implements ValueType<List<String>> {
        public String expected() {
            return "a string or an array of strings";
        }

        public boolean repeatable() {
            return true;
        }

        public List<String> parse(String text) {
            return List.of(text);
        }

        public List<String> fromJson(Object json) {
            if (json instanceof String s) return List.of(s);
            if (json instanceof Iterable<?> items) {
                List<String> out = new ArrayList<>();
                for (Object o : items) {
                    if (!(o instanceof String s)) throw invalid(this, json);
                    out.add(s);
                }
                return List.copyOf(out);
            }
            throw invalid(this, json);
        }

        @Override
        public String show(List<String> value) {
            return String.join(", ", value);
        }
    }

    /** Several files: a repeated flag, or a string or array of strings in a conf file. */
    record FilePaths() implements ValueType<List<Path>> {
        public String expected() {
            return "a file name or an array of file names";
        }

        public boolean repeatable() {
            return true;
        }

        public List<Path> parse(String text) {
            return List.of(new FilePath().parse(text));
        }

        public List<Path> fromJson(Object json) {
            try {
                return new Texts().fromJson(json).stream().map(s -> new FilePath().parse(s)).toList();
            } catch (IllegalArgumentException e) {
                throw invalid(this, json);
            }
        }

        @Override
        public String show(List<Path> value) {
            return String.join(", ", value.stream().map(Path::toString).toList());
        }
    }

    /**
     * Named settings: {@code KEY=VALUE} flags, repeatable, or a JSON object of strings, numbers and booleans. A flag's
     * settings are added to the conf file's (a key in both takes the flag's value).
     */
    record Settings() implements ValueType<Map<String, Object>> {
        public String expected() {
            return "KEY=VALUE, or an object of strings, numbers and booleans";
        }

        public boolean repeatable() {
            return true;
        }

        public Map<String, Object> parse(String text) {
            int eq = text.indexOf('=');
            if (eq < 1) throw invalid(this, text);
            return Map.of(text.substring(0, eq).trim(), text.substring(eq + 1).trim());
        }

        public Map<String, Object> fromJson(Object json) {
            Map<String, Object> out = new LinkedHashMap<>();
            Iterable<?> entries = json instanceof Map<?, ?> m ? m.entrySet() : json instanceof Iterable<?> it ? it : null;
            if (entries == null) throw invalid(this, json);
            for (Object e : entries) {
                if (!(e instanceof Map.Entry<?, ?> entry) || !(entry.getKey() instanceof String key)) throw invalid(this, json);
                Object v = entry.getValue();
                if (!(v instanceof String || v instanceof Number || v instanceof Boolean)) throw invalid(this, json);
                out.put(key, v);
            }
            return java.util.Collections.unmodifiableMap(out);
        }

        @Override
        public Map<String, Object> combine(Map<String, Object> fromFile, Map<String, Object> fromFlag) {
            Map<String, Object> merged = new LinkedHashMap<>(fromFile);
            merged.putAll(fromFlag);
            return java.util.Collections.unmodifiableMap(merged);
        }
    }
}
