package io.tandem.model.chat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * JSON the way Python's {@code json.dumps(x, ensure_ascii=False, indent=..., sort_keys=...)} writes it, which is
 * what Hugging Face's {@code tojson} template filter produces: {@code ", "} and {@code ": "} separators (or
 * {@code ","} and newlines with an indent), non-ASCII characters kept, floats in Python's repr.
 */
final class PythonJson {
    private PythonJson() {
    }

    /** @param indent null for one line, else the indent string per level */
    static String dumps(Object value, String indent, boolean sortKeys) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, indent, sortKeys, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, String indent, boolean sortKeys, int level) {
        switch (v) {
            case null -> sb.append("null");
            case Boolean b -> sb.append(b ? "true" : "false");
            case Long l -> sb.append(l);
            case Integer i -> sb.append(i);
            case Short s -> sb.append(s);
            case Byte b -> sb.append(b);
            case BigInteger b -> sb.append(b);
            case Number n -> sb.append(floatRepr(n.doubleValue()));
            case Map<?, ?> m -> {
                List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
                if (sortKeys) entries.sort((a, b) -> String.valueOf(a.getKey()).compareTo(String.valueOf(b.getKey())));
                sb.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : entries) {
                    separator(sb, indent, level + 1, first);
                    first = false;
                    string(sb, key(e.getKey()));
                    sb.append(": ");
                    write(sb, e.getValue(), indent, sortKeys, level + 1);
                }
                close(sb, indent, level, entries.isEmpty(), '}');
            }
            case Collection<?> c -> list(sb, c, indent, sortKeys, level);
            case Object[] a -> list(sb, List.of(a), indent, sortKeys, level);
            default -> string(sb, v.toString());
        }
    }

    private static void list(StringBuilder sb, Collection<?> c, String indent, boolean sortKeys, int level) {
        sb.append('[');
        boolean first = true;
        for (Object o : c) {
            separator(sb, indent, level + 1, first);
            first = false;
            write(sb, o, indent, sortKeys, level + 1);
        }
        close(sb, indent, level, c.isEmpty(), ']');
    }

    private static void separator(StringBuilder sb, String indent, int level, boolean first) {
        if (indent == null) {
            if (!first) sb.append(", ");
        } else {
            if (!first) sb.append(',');
            sb.append('\n').append(indent.repeat(level));
        }
    }

    private static void close(StringBuilder sb, String indent, int level, boolean empty, char bracket) {
        if (indent != null && !empty) sb.append('\n').append(indent.repeat(level));
        sb.append(bracket);
    }

    private static String key(Object k) {
        return switch (k) {
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Double d -> floatRepr(d);
            case Float f -> floatRepr(f);
            default -> k.toString();
        };
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /** The decimal with the fewest digits that reads back as {@code d}, the closest one among those. */
    private static BigDecimal shortest(double d) {
        BigDecimal exact = new BigDecimal(d);
        for (int digits = 1; digits < 17; digits++) {
            BigDecimal r = exact.round(new java.math.MathContext(digits, java.math.RoundingMode.HALF_EVEN));
            if (r.doubleValue() == d) return r.stripTrailingZeros();
        }
        return exact.round(new java.math.MathContext(17, java.math.RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }

    /** Python's repr of a float: shortest round-trip digits, scientific below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal bd = shortest(d);
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = bd.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
}
