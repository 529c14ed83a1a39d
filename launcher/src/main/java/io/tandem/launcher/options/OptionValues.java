package io.tandem.launcher.options;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The options one program was given: its conf file's, with its flags on top ({@link #merge}). Only given values are
 * held; {@link #get} falls back to the table's default.
 */
public final class OptionValues {
    private final Program program;
    private final Map<OptionDef<?>, Object> given;

    private OptionValues(Program program, Map<OptionDef<?>, Object> given) {
        this.program = program;
        this.given = Collections.unmodifiableMap(new LinkedHashMap<>(given));
    }

    /** Nothing given: every option at its default. */
    public static OptionValues none(Program program) {
        return new OptionValues(program, Map.of());
    }

    /** The conf file's values with the flags' on top ({@link ValueType#combine}). */
    public static OptionValues merge(Program program, Map<OptionDef<?>, Object> fromFile, Map<OptionDef<?>, Object> fromFlags) {
        Map<OptionDef<?>, Object> v = new LinkedHashMap<>(fromFile);
        fromFlags.forEach((def, value) -> v.merge(def, value, (file, flag) -> combine(def, file, flag)));
        v.keySet().forEach(def -> check(program, def));
        return new OptionValues(program, v);
    }

    @SuppressWarnings("unchecked")
    private static <T> Object combine(OptionDef<T> def, Object file, Object flag) {
        return def.type().combine((T) file, (T) flag);
    }

    /**
     * The options in a conf file's JSON object ({@code _}-prefixed keys are comments).
     *
     * @param json     keys to JSON values, as a JSON parser gives them (nested objects as Maps or Iterables of entries)
     * @param source   the file's name, for messages
     * @param warnings where deprecated keys are reported
     * @throws IllegalArgumentException for an unknown key (naming the known ones) or a wrong value (naming the key)
     */
    public static Map<OptionDef<?>, Object> fromConf(Program program, Map<String, ?> json, String source, Consumer<String> warnings) {
        Map<OptionDef<?>, Object> out = new LinkedHashMap<>();
        Map<OptionDef<?>, String> keyOf = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : json.entrySet()) {
            String key = e.getKey();
            if (key.startsWith("_")) continue;
            OptionDef<?> def = confKey(program, key, source);
            if (!key.equals(def.name())) {
                warnings.accept(source + ": key '" + key + "' is deprecated; use '" + def.name() + "'");
            }
            String earlier = keyOf.put(def, key);
            if (earlier != null) {
                throw new IllegalArgumentException(source + ": '" + earlier + "' and '" + key + "' set the same option; keep '"
                        + def.name() + "'");
            }
            try {
                out.put(def, def.type().fromJson(e.getValue()));
            } catch (IllegalArgumentException bad) {
                throw new IllegalArgumentException(source + ": '" + key + "' " + bad.getMessage(), bad);
            }
        }
        return out;
    }

    /**
     * Options by name with flag-like values (tests, programmatic callers): a String is parsed like a flag's text,
     * anything else like a conf file's JSON value; null values are skipped (not given).
     */
    public static Map<OptionDef<?>, Object> fromNamed(Program program, Map<String, ?> named) {
        Map<OptionDef<?>, Object> out = new LinkedHashMap<>();
        named.forEach((name, value) -> {
            if (value == null) return;
            OptionDef<?> def = TandemOptions.of(program).stream().filter(d -> d.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown " + program.shortName() + " option '" + name + "'"));
            try {
                out.put(def, value instanceof String s ? def.type().parse(s) : def.type().fromJson(value));
            } catch (IllegalArgumentException bad) {
                throw new IllegalArgumentException(def.flag() + " " + bad.getMessage(), bad);
            }
        });
        return out;
    }

    private static OptionDef<?> confKey(Program program, String key, String source) {
        List<OptionDef<?>> options = TandemOptions.of(program).stream().filter(d -> !d.flagOnly()).toList();
        for (OptionDef<?> d : options) {
            if (d.name().equals(key) || d.deprecatedKeys().contains(key)) return d;
        }
        TreeSet<String> known = new TreeSet<>();
        options.forEach(d -> known.add(d.name()));
        String elsewhere = TandemOptions.all().stream().filter(d -> d.name().equals(key) && !d.appliesTo(program))
                .findFirst().map(d -> " (an option of " + d.programs().iterator().next().jar() + ")").orElse("");
        throw new IllegalArgumentException("unknown key '" + key + "' in " + source + elsewhere + "; known keys: "
                + String.join(", ", known));
    }

    private static void check(Program program, OptionDef<?> def) {
        if (!def.appliesTo(program)) throw new IllegalArgumentException(def.flag() + " is not an option of " + program.jar());
    }

    public Program program() {
        return program;
    }

    /** The value given, else the default (null when the option has none). */
    @SuppressWarnings("unchecked")
    public <T> T get(OptionDef<T> def) {
        check(program, def);
        return given.containsKey(def) ? (T) given.get(def) : def.defaultValue();
    }

    /** The value, when given in the conf file or as a flag. */
    @SuppressWarnings("unchecked")
    public <T> Optional<T> given(OptionDef<T> def) {
        check(program, def);
        return Optional.ofNullable((T) given.get(def));
    }

    public boolean isGiven(OptionDef<?> def) {
        check(program, def);
        return given.containsKey(def);
    }

    @Override
    public String toString() {
        return program.jar() + " " + given;
    }
}
