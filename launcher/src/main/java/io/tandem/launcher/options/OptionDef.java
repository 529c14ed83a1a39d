package io.tandem.launcher.options;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One option, declared once in {@link TandemOptions}: its flag is {@code --NAME} and its conf file key is
 * {@code NAME}. In {@code help} and {@code defaultText}, {@code {program}} stands for {@code gateway} or
 * {@code worker}.
 *
 * @param name           the long flag without its dashes, and the conf key
 * @param type           what values it takes
 * @param label          the value's name in help ({@code N}, {@code HOST}, ...); unused for switches
 * @param programs       which programs take it
 * @param defaultValue   the value when it is not given, or null when there is none (derived at startup, or absent)
 * @param defaultText    how the default shows, when the value alone does not say it (e.g. {@code all cores}), or null
 * @param help           one or two sentences for {@code --help} and the README
 * @param aliases        more flag names ({@code -cluster})
 * @param deprecatedKeys conf keys still read, with a warning, for this option
 * @param flagOnly       only a flag ({@code --conf}): not a conf key
 */
public record OptionDef<T>(String name, ValueType<T> type, String label, Set<Program> programs, T defaultValue,
                           String defaultText, String help, List<String> aliases, List<String> deprecatedKeys,
                           boolean flagOnly) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");

    public OptionDef {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(help, "help");
        if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("option names are lower-case words joined by '-': " + name);
        if (programs.isEmpty()) throw new IllegalArgumentException(name + " applies to no program");
        programs = Set.copyOf(programs);
        aliases = List.copyOf(aliases);
        deprecatedKeys = List.copyOf(deprecatedKeys);
    }

    static <T> OptionDef<T> of(String name, ValueType<T> type, String label, Set<Program> programs, T defaultValue, String help) {
        return new OptionDef<>(name, type, label, EnumSet.copyOf(programs), defaultValue, null, help, List.of(), List.of(), false);
    }

    /** The long flag, {@code --NAME}. */
    public String flag() {
        return "--" + name;
    }

    /** Every flag name: the long flag, then the aliases. */
    public List<String> flagNames() {
        List<String> names = new ArrayList<>();
        names.add(flag());
        names.addAll(aliases);
        return names;
    }

    public boolean appliesTo(Program program) {
        return programs.contains(program);
    }

    public boolean isSwitch() {
        return type instanceof ValueType.Switch;
    }

    /** A switch that is on by default: {@code --no-NAME} turns it off. */
    public boolean negatable() {
        return isSwitch() && Boolean.TRUE.equals(defaultValue);
    }

    /** The help text for {@code program}. */
    public String help(Program program) {
        return help.replace("{program}", program.shortName());
    }

    /** The default as shown in help and the README, or an empty string when there is none to show. */
    public String shownDefault(Program program) {
        if (defaultText != null) return defaultText.replace("{program}", program.shortName());
        return defaultValue == null ? "" : type.show(defaultValue);
    }

    OptionDef<T> alias(String alias) {
        List<String> a = new ArrayList<>(aliases);
        a.add(alias);
        return new OptionDef<>(name, type, label, programs, defaultValue, defaultText, help, a, deprecatedKeys, flagOnly);
    }

    OptionDef<T> deprecatedKey(String key) {
        List<String> k = new ArrayList<>(deprecatedKeys);
        k.add(key);
        return new OptionDef<>(name, type, label, programs, defaultValue, defaultText, help, aliases, k, flagOnly);
    }

    OptionDef<T> shownAs(String text) {
        return new OptionDef<>(name, type, label, programs, defaultValue, text, help, aliases, deprecatedKeys, flagOnly);
    }

    OptionDef<T> onlyAsFlag() {
        return new OptionDef<>(name, type, label, programs, defaultValue, defaultText, help, aliases, deprecatedKeys, true);
    }

    @Override
    public String toString() {
        return flag();
    }
}
