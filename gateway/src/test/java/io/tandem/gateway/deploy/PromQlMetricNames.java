package io.tandem.gateway.deploy;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression selects: identifiers that are neither functions (followed by {@code (}),
 * keywords, label names (inside {@code {…}} or in {@code by/without/on/ignoring/group_left/group_right (…)}),
 * durations, numbers nor Grafana variables. Names come back as written ({@code x_bucket}, {@code x_total}): the
 * Prometheus server stores Micrometer's sample names with those suffixes, so they are compared with sample names.
 */
final class PromQlMetricNames {

    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern GRAFANA_VARIABLE = Pattern.compile("\\$\\{[^}]*}|\\$\\w+|\\[\\[\\w+]]");
    private static final Pattern MATCHERS = Pattern.compile("\\{[^}]*}");
    private static final Pattern RANGE = Pattern.compile("\\[[^]]*]");
    private static final Pattern LABEL_LIST = Pattern.compile(
            "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", Pattern.CASE_INSENSITIVE);
    private static final Pattern OFFSET = Pattern.compile("\\boffset\\s+-?[0-9a-zA-Z]+", Pattern.CASE_INSENSITIVE);
    private static final Pattern NUMBER = Pattern.compile(
            "(?<![\\w:])(?:0x[0-9a-fA-F]+|[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?(?:ms|s|m|h|d|w|y)?)");
    private static final Pattern IDENTIFIER = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset", "inf", "nan", "atan2");

    private PromQlMetricNames() {}

    static Set<String> of(String expression) {
        String e = STRING.matcher(expression).replaceAll(" ");
        e = GRAFANA_VARIABLE.matcher(e).replaceAll(" ");
        e = MATCHERS.matcher(e).replaceAll(" ");
        e = RANGE.matcher(e).replaceAll(" ");
        e = LABEL_LIST.matcher(e).replaceAll(" ");
        e = OFFSET.matcher(e).replaceAll(" ");
        e = NUMBER.matcher(e).replaceAll(" ");
        Set<String> names = new LinkedHashSet<>();
        Matcher m = IDENTIFIER.matcher(e);
        while (m.find()) {
            String id = m.group();
            int after = m.end();
            while (after < e.length() && Character.isWhitespace(e.charAt(after))) after++;
            boolean call = after < e.length() && e.charAt(after) == '(';
            if (!call && !KEYWORDS.contains(id.toLowerCase(java.util.Locale.ROOT))) names.add(id);
        }
        return names;
    }
}
