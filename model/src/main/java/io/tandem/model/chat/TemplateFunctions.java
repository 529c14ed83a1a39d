package io.tandem.model.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The globals Hugging Face adds to chat templates ({@code raise_exception}, {@code strftime_now}, {@code tojson})
 * and the pieces that make Jinjava behave like Python Jinja2 where it differs ({@code trim}, printing).
 */
final class TemplateFunctions {
    private TemplateFunctions() {
    }

    /** Thrown by {@code raise_exception(msg)}; found again in the render errors and turned into a ChatTemplateException. */
    static final class RaisedException extends RuntimeException {
        RaisedException(String message) {
            super(message, null, false, false);
        }
    }

    public static Object raiseException(String message) {
        throw new RaisedException(message);
    }

    /** Python's {@code datetime.now().strftime(format)} for the common directives. */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 == format.length()) {
                sb.append(c);
                continue;
            }
            char d = format.charAt(++i);
            switch (d) {
                case 'd' -> sb.append(String.format("%02d", t.getDayOfMonth()));
                case 'm' -> sb.append(String.format("%02d", t.getMonthValue()));
                case 'Y' -> sb.append(t.getYear());
                case 'y' -> sb.append(String.format("%02d", t.getYear() % 100));
                case 'H' -> sb.append(String.format("%02d", t.getHour()));
                case 'I' -> sb.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'M' -> sb.append(String.format("%02d", t.getMinute()));
                case 'S' -> sb.append(String.format("%02d", t.getSecond()));
                case 'p' -> sb.append(t.getHour() < 12 ? "AM" : "PM");
                case 'b' -> sb.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> sb.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> sb.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'j' -> sb.append(String.format("%03d", t.getDayOfYear()));
                case '%' -> sb.append('%');
                default -> sb.append('%').append(d);
            }
        }
        return sb.toString();
    }

    /** HF's {@code tojson(x, indent=None, sort_keys=False)}: Python json.dumps with ensure_ascii=False. */
    static final class ToJsonFilter implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            return filter(var, interpreter, args, Map.of());
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            Object sort = kwargs.get("sort_keys");
            return PythonJson.dumps(var, indentString(indent), sort != null && Boolean.parseBoolean(sort.toString()));
        }

        private static String indentString(Object indent) {
            if (indent == null) return null;
            if (indent instanceof Number n) return " ".repeat(Math.max(0, n.intValue()));
            String s = indent.toString();
            return s.matches("\\d+") ? " ".repeat(Integer.parseInt(s)) : s;
        }
    }

    /** Jinja2's {@code trim(chars=None)}: Python's str.strip, which also removes Unicode spaces such as NBSP. */
    static final class TrimFilter implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            String chars = args.length > 0 ? args[0] : null;
            return var == null ? "" : PythonStrings.strip(var.toString(), chars, true, true);
        }
    }

    /** Jinja2's {@code length} / {@code count}: strings count code points (Python), not UTF-16 units. */
    static final class LengthFilter implements Filter {
        private static final com.hubspot.jinjava.lib.filter.LengthFilter JINJAVA_LENGTH =
                new com.hubspot.jinjava.lib.filter.LengthFilter();
        private final String name;

        LengthFilter(String name) {
            this.name = name;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var instanceof String s) return (long) s.codePointCount(0, s.length());
            return JINJAVA_LENGTH.filter(var, interpreter, args);
        }
    }

    /** Jinja2's {@code items}: a mapping's (key, value) pairs, which Jinjava lacks. */
    static final class ItemsFilter implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var == null) return List.of();
            if (!(var instanceof Map<?, ?> map)) throw new IllegalArgumentException("items filter needs a mapping");
            List<List<Object>> pairs = new ArrayList<>(map.size());
            map.forEach((k, v) -> pairs.add(java.util.Arrays.asList(k, v)));
            return pairs;
        }
    }

    /** Jinja2's {@code min} / {@code max} over numbers or strings (strings compared ignoring case, as Jinja2 does). */
    static final class ExtremeFilter implements Filter {
        private final boolean max;

        ExtremeFilter(boolean max) {
            this.max = max;
        }

        @Override
        public String getName() {
            return max ? "max" : "min";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (!(var instanceof Iterable<?> items)) return var;
            Object best = null;
            for (Object o : items) {
                if (best == null || (max ? compare(o, best) > 0 : compare(o, best) < 0)) best = o;
            }
            return best;
        }

        private static int compare(Object a, Object b) {
            if (a instanceof Number x && b instanceof Number y) return Double.compare(x.doubleValue(), y.doubleValue());
            return String.valueOf(a).toLowerCase(Locale.ROOT).compareTo(String.valueOf(b).toLowerCase(Locale.ROOT));
        }
    }

    /** Prints values the way Python does where Jinjava differs: booleans as True and False, strings verbatim. */
    static final class PythonPrintingInterpreter extends JinjavaInterpreter {
        PythonPrintingInterpreter(Jinjava jinjava, Context context, JinjavaConfig config) {
            super(jinjava, context, config);
        }

        PythonPrintingInterpreter(JinjavaInterpreter parent) {
            super(parent);
        }

        @Override
        public String getAsString(Object object) {
            if (object instanceof Boolean b) return b ? "True" : "False";
            if (object instanceof String s) return s; // the pyish mapper would escape control characters
            return super.getAsString(object);
        }
    }

    static final class PythonPrintingFactory implements InterpreterFactory {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter parent) {
            return new PythonPrintingInterpreter(parent);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava jinjava, Context context, JinjavaConfig config) {
            return new PythonPrintingInterpreter(jinjava, context, config);
        }
    }
}
