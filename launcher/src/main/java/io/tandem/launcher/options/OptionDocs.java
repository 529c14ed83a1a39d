package io.tandem.launcher.options;

import java.util.ArrayList;
import java.util.List;

/**
 * The README's flag tables, generated from {@link TandemOptions}. Each program's table sits between two marker
 * lines; {@link #updateReadme} rewrites what is between them.
 */
public final class OptionDocs {
    private OptionDocs() {
    }

    public static String beginMarker(Program program) {
        return "<!-- " + program.jar() + " options: generated from TandemOptions by OptionDocs, do not edit -->";
    }

    public static String endMarker(Program program) {
        return "<!-- end of " + program.jar() + " options -->";
    }

    /** The Markdown table of {@code program}'s flags, then its deprecated conf keys. */
    public static String table(Program program) {
        StringBuilder md = new StringBuilder("| flag | meaning | default |\n|---|---|---|\n");
        List<String> deprecated = new ArrayList<>();
        for (OptionDef<?> def : TandemOptions.of(program)) {
            md.append("| ").append(flags(def)).append(" | ").append(cell(def.help(program)))
                    .append(def.flagOnly() ? " (a flag only, not a conf key)" : "")
                    .append(" | ").append(cell(def.shownDefault(program))).append(" |\n");
            for (String key : def.deprecatedKeys()) deprecated.add("`" + key + "` (use `" + def.name() + "`)");
        }
        if (!deprecated.isEmpty()) {
            md.append("\nDeprecated conf keys, still read with a warning: ").append(String.join(", ", deprecated)).append(".\n");
        }
        return md.toString();
    }

    private static String flags(OptionDef<?> def) {
        List<String> names = new ArrayList<>();
        String value = def.isSwitch() ? "" : " " + def.label();
        for (String n : def.flagNames()) {
            String shown = def.negatable() && n.equals(def.flag()) ? "--[no-]" + def.name() : n;
            names.add("`" + shown + value + "`");
        }
        return String.join(", ", names);
    }

    private static String cell(String text) {
        return text.replace("|", "\\|");
    }

    /**
     * {@code readme} with every program's table replaced by the generated one.
     *
     * @throws IllegalArgumentException when a program's markers are missing
     */
    public static String updateReadme(String readme) {
        String out = readme;
        for (Program p : Program.values()) {
            String begin = beginMarker(p), end = endMarker(p);
            int b = out.indexOf(begin), e = out.indexOf(end);
            if (b < 0 || e < b) {
                throw new IllegalArgumentException("the README has no '" + begin + "' ... '" + end + "' block for the "
                        + p.jar() + " flag table");
            }
            out = out.substring(0, b + begin.length()) + "\n" + table(p) + out.substring(e);
        }
        return out;
    }
}
