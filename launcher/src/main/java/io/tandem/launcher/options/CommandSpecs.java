package io.tandem.launcher.options;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** picocli commands generated from {@link TandemOptions}: one option per declaration, with its help and default. */
public final class CommandSpecs {
    private CommandSpecs() {
    }

    /**
     * A command named after {@code program}'s jar with its options, {@code --help} and {@code --version}; its user
     * object (a {@code Callable<Integer>} or {@code Runnable}) runs when the command line parses, and reads the
     * values with {@link #given}.
     */
    public static CommandSpec create(Program program, Object userObject, String version, String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(userObject).name(program.jar()).version(version)
                .mixinStandardHelpOptions(true);
        spec.usageMessage().sortOptions(false).description(description);
        for (OptionDef<?> def : TandemOptions.of(program)) spec.addOption(option(def, program));
        return spec;
    }

    private static OptionSpec option(OptionDef<?> def, Program program) {
        String[] names = def.flagNames().toArray(String[]::new);
        String shown = def.shownDefault(program);
        String help = def.help(program) + (shown.isEmpty() || def.negatable() ? "" : " (default: " + shown + ")");
        OptionSpec.Builder b = OptionSpec.builder(names).description(help);
        ValueType<?> type = def.type();
        if (def.isSwitch()) {
            return b.type(boolean.class).arity("0").negatable(def.negatable()).build();
        }
        b.paramLabel(def.label());
        switch (type) {
            case ValueType.Settings s -> b.type(Map.class).auxiliaryTypes(String.class, String.class);
            case ValueType.Texts t -> b.type(List.class).auxiliaryTypes(String.class);
            case ValueType.FilePaths p -> b.type(List.class).auxiliaryTypes(String.class);
            default -> b.type(Object.class).converters(text -> {
                try {
                    return type.parse(text);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.TypeConversionException(e.getMessage());
                }
            });
        }
        return b.build();
    }

    /** The options given on the command line, typed as their declarations say. */
    public static Map<OptionDef<?>, Object> given(ParseResult parsed, Program program) {
        Map<OptionDef<?>, Object> out = new LinkedHashMap<>();
        for (OptionDef<?> def : TandemOptions.of(program)) {
            if (!parsed.hasMatchedOption(def.flag())) continue;
            Object value = parsed.matchedOptionValue(def.flag(), null);
            try {
                out.put(def, switch (def.type()) {
                    case ValueType.Settings s -> s.fromJson(value);
                    case ValueType.Texts t -> t.fromJson(value);
                    case ValueType.FilePaths p -> p.fromJson(value);
                    default -> value;
                });
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(def.flag() + " " + e.getMessage(), e);
            }
        }
        return out;
    }
}
