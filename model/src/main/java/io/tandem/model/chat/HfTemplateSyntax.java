package io.tandem.model.chat;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rewrites the Python-Jinja spellings of Hugging Face chat templates that Jinjava parses differently, inside
 * {@code {{ }}} and {@code {% %}} only and never inside string literals:
 * <ul>
 *   <li>{@code x[::-1]} becomes {@code x|reverse} (Jinjava has no step slices);</li>
 *   <li>keyword arguments whose value uses a filter get parentheses, {@code namespace(i=messages|length - 1)} →
 *       {@code namespace(i=(messages|length - 1))} (Jinjava binds the filter and the {@code -} to the
 *       keyword otherwise);</li>
 *   <li>Python's {@code True}, {@code False}, {@code None} become {@code true}, {@code false}, {@code none};</li>
 *   <li>Python string escapes Jinjava lacks (hex, unicode and octal escapes, bell, vertical tab, and unknown
 *       ones, which Python keeps as a backslash and the letter) become the characters Python reads.</li>
 * </ul>
 */
final class HfTemplateSyntax {
    private static final Pattern REVERSE_SLICE = Pattern.compile("\\[\\s*::\\s*-\\s*1\\s*]");
    private static final Pattern PY_CONSTANT = Pattern.compile("(?<![\\w.])(True|False|None)(?!\\w)");
    private static final Pattern KWARG = Pattern.compile("(?s)(\\s*[A-Za-z_]\\w*\\s*=)(?!=)(.*)");

    private static final Pattern FILTER_USE = Pattern.compile("(?<!\\|)\\|\\s*([A-Za-z_]\\w*)");
    private static final Pattern TEST_USE = Pattern.compile("\\bis\\s+(?:not\\s+)?([A-Za-z_]\\w*)");

    private HfTemplateSyntax() {
    }

    /** Filter and test names a template uses. */
    record Names(Set<String> filters, Set<String> tests) {
    }

    /** The filters and tests the template's code uses (outside string literals and raw blocks). */
    static Names usedNames(String template) {
        Names names = new Names(new TreeSet<>(), new TreeSet<>());
        rewrite(template, names);
        return names;
    }

    static String rewrite(String template) {
        return rewrite(template, null);
    }

    private static String rewrite(String template, Names names) {
        // Jinja2 reads every line break as \n and drops one trailing newline (keep_trailing_newline=False).
        String source = template.replace("\r\n", "\n").replace('\r', '\n');
        if (source.endsWith("\n")) source = source.substring(0, source.length() - 1);
        StringBuilder out = new StringBuilder(source.length() + 64);
        int i = 0;
        int n = source.length();
        while (i < n) {
            int open = nextOpen(source, i);
            if (open < 0) {
                out.append(source, i, n);
                break;
            }
            out.append(source, i, open);
            char kind = source.charAt(open + 1);
            if (kind == '#') {
                int end = source.indexOf("#}", open + 2);
                end = end < 0 ? n : end + 2;
                out.append(source, open, end);
                i = end;
                continue;
            }
            String close = kind == '{' ? "}}" : "%}";
            int end = findClose(source, open + 2, close);
            if (end < 0) { // unterminated: leave it for Jinjava to report
                out.append(source, open, n);
                break;
            }
            String inner = source.substring(open + 2, end);
            if (kind == '%' && inner.strip().replaceAll("^[-+]|[-+]$", "").strip().equals("raw")) {
                int endRaw = findEndRaw(source, end + 2);
                out.append(source, open, endRaw);
                i = endRaw;
                continue;
            }
            String code = rewriteCode(inner);
            if (names != null) collect(code, kind, names);
            out.append(source, open, open + 2).append(code).append(close);
            i = end + 2;
        }
        return out.toString();
    }

    private static int nextOpen(String s, int from) {
        for (int i = s.indexOf('{', from); i >= 0 && i + 1 < s.length(); i = s.indexOf('{', i + 1)) {
            char c = s.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
        }
        return -1;
    }

    /** Index of {@code close} after {@code from}, skipping string literals. */
    private static int findClose(String s, int from, String close) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipString(s, i);
            } else if (s.startsWith(close, i)) {
                return i;
            }
        }
        return -1;
    }

    private static int findEndRaw(String s, int from) {
        Matcher m = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}").matcher(s);
        return m.find(from) ? m.end() : s.length();
    }

    /** Index of the closing quote of the string literal opening at {@code i} (or the last index). */
    private static int skipString(String s, int i) {
        char q = s.charAt(i);
        for (int j = i + 1; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '\\') j++;
            else if (c == q) return j;
        }
        return s.length() - 1;
    }

    /**
     * Re-spells a quoted Python string literal with only the escapes Jinjava reads (newline, tab, carriage
     * return, backspace, form feed, quotes, backslash); every other escape becomes the character Python reads.
     */
    static String stringLiteral(String lit) {
        if (lit.indexOf('\\') < 0 || lit.length() < 2) return lit;
        char q = lit.charAt(0);
        boolean closed = lit.length() >= 2 && lit.charAt(lit.length() - 1) == q;
        String body = lit.substring(1, closed ? lit.length() - 1 : lit.length());
        StringBuilder sb = new StringBuilder(lit.length()).append(q);
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c != '\\' || i + 1 >= body.length()) {
                sb.append(c);
                continue;
            }
            char e = body.charAt(++i);
            switch (e) {
                case 'n', 't', 'r', 'b', 'f', '\'', '"', '\\' -> sb.append('\\').append(e);
                case '\n' -> { } // line continuation
                case 'a' -> literal(sb, 0x07, q);
                case 'v' -> literal(sb, 0x0B, q);
                case 'x', 'u', 'U' -> {
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    String hex = i + digits < body.length() ? body.substring(i + 1, i + 1 + digits) : "";
                    int cp = hex.matches("[0-9a-fA-F]+") && hex.length() == digits ? (int) Long.parseLong(hex, 16) : -1;
                    if (cp >= 0 && cp <= Character.MAX_CODE_POINT) {
                        literal(sb, cp, q);
                        i += digits;
                    } else {
                        sb.append("\\\\").append(e); // Python rejects it; keep the text visible
                    }
                }
                default -> {
                    if (e >= '0' && e <= '7') {
                        int end = i;
                        while (end < body.length() && end < i + 3 && body.charAt(end) >= '0' && body.charAt(end) <= '7') end++;
                        literal(sb, Integer.parseInt(body.substring(i, end), 8), q);
                        i = end - 1;
                    } else {
                        sb.append("\\\\").append(e); // Python keeps unknown escapes as backslash + char
                    }
                }
            }
        }
        if (closed) sb.append(q);
        return sb.toString();
    }

    private static void literal(StringBuilder sb, int codePoint, char quote) {
        switch (codePoint) {
            case '\\' -> sb.append("\\\\");
            case '\n' -> sb.append("\\n");
            case '\t' -> sb.append("\\t");
            case '\r' -> sb.append("\\r");
            default -> {
                if (codePoint == quote) sb.append('\\');
                sb.appendCodePoint(codePoint);
            }
        }
    }

    private static void collect(String code, char kind, Names names) {
        String bare = code.replaceAll("'(?:[^'\\\\]|\\\\.)*'|\"(?:[^\"\\\\]|\\\\.)*\"", "''");
        FILTER_USE.matcher(bare).results().forEach(m -> names.filters().add(m.group(1)));
        TEST_USE.matcher(bare).results().forEach(m -> names.tests().add(m.group(1)));
        if (kind == '%') { // {% filter name %} blocks
            Matcher m = Pattern.compile("^[-+]?\\s*filter\\s+([A-Za-z_]\\w*)").matcher(bare);
            if (m.find()) names.filters().add(m.group(1));
        }
    }

    /** Rewrites one tag or expression body. */
    static String rewriteCode(String code) {
        StringBuilder out = new StringBuilder(code.length() + 16);
        new Scanner(code).group(out, (char) 0);
        return out.toString();
    }

    /** Walks an expression, recursing into brackets, so keyword arguments can be seen whole. */
    private static final class Scanner {
        private final String s;
        private int i;

        Scanner(String s) {
            this.s = s;
        }

        /** Copies until the bracket {@code closer} (or the end), rewriting as it goes. */
        void group(StringBuilder out, char closer) {
            StringBuilder arg = new StringBuilder();
            int codeStart = 0; // start in arg of code not yet rewritten
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '\'' || c == '"') {
                    flushCode(arg, codeStart);
                    int end = skipString(s, i);
                    arg.append(stringLiteral(s.substring(i, end + 1)));
                    i = end + 1;
                    codeStart = arg.length();
                } else if (c == '(' || c == '[' || c == '{') {
                    flushCode(arg, codeStart);
                    // keep "[::-1]" visible to the code rewrite as a whole
                    Matcher m = REVERSE_SLICE.matcher(s).region(i, s.length());
                    if (c == '[' && m.lookingAt()) {
                        arg.append("|reverse");
                        i = m.end();
                        codeStart = arg.length();
                        continue;
                    }
                    i++;
                    StringBuilder inner = new StringBuilder();
                    group(inner, c == '(' ? ')' : c == '[' ? ']' : '}');
                    arg.append(c).append(inner);
                    if (i < s.length()) arg.append(s.charAt(i++));
                    codeStart = arg.length();
                } else if (c == closer) {
                    break;
                } else if (c == ',' && closer == ')') {
                    flushCode(arg, codeStart);
                    out.append(keywordParens(arg)).append(',');
                    arg.setLength(0);
                    codeStart = 0;
                    i++;
                } else {
                    arg.append(c);
                    i++;
                }
            }
            flushCode(arg, codeStart);
            out.append(closer == ')' ? keywordParens(arg) : arg);
        }

        /** Applies the plain-code rewrites to {@code arg[from..]}. */
        private static void flushCode(StringBuilder arg, int from) {
            String code = arg.substring(from);
            String rewritten = PY_CONSTANT.matcher(code).replaceAll(m -> switch (m.group(1)) {
                case "True" -> "true";
                case "False" -> "false";
                default -> "none";
            });
            if (!rewritten.equals(code)) arg.replace(from, arg.length(), rewritten);
        }

        private static String keywordParens(StringBuilder arg) {
            Matcher m = KWARG.matcher(arg);
            // Only values with a filter need it; macro defaults like b=1 stay as they are.
            if (!m.matches() || m.group(2).isBlank() || m.group(2).indexOf('|') < 0) return arg.toString();
            String value = m.group(2);
            String trimmed = value.strip();
            int lead = value.indexOf(trimmed.charAt(0));
            return m.group(1) + value.substring(0, lead) + "(" + trimmed + ")" + value.substring(lead + trimmed.length());
        }
    }
}
