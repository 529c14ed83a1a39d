package io.tandem.model.chat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Python {@code str} methods that Hugging Face chat templates call on strings ({@code content.strip()},
 * {@code x.startswith('a')}, {@code s.split('</think>')}...), with Python semantics.
 */
final class PythonStrings {
    /** Returned by {@link #call} when the method is not a Python string method this class knows. */
    static final Object UNKNOWN = new Object();

    private PythonStrings() {
    }

    static Object call(String s, String method, Object[] args) {
        int n = args.length;
        return switch (method) {
            case "strip" -> n <= 1 ? strip(s, chars(args, 0), true, true) : UNKNOWN;
            case "lstrip" -> n <= 1 ? strip(s, chars(args, 0), true, false) : UNKNOWN;
            case "rstrip" -> n <= 1 ? strip(s, chars(args, 0), false, true) : UNKNOWN;
            case "startswith" -> n == 1 ? affix(s, args[0], true) : UNKNOWN;
            case "endswith" -> n == 1 ? affix(s, args[0], false) : UNKNOWN;
            case "lower" -> n == 0 ? s.toLowerCase(Locale.ROOT) : UNKNOWN;
            case "upper" -> n == 0 ? s.toUpperCase(Locale.ROOT) : UNKNOWN;
            case "title" -> n == 0 ? title(s) : UNKNOWN;
            case "capitalize" -> n == 0 ? capitalize(s) : UNKNOWN;
            case "split" -> n <= 2 ? split(s, chars(args, 0), n == 2 ? toInt(args[1]) : -1) : UNKNOWN;
            case "rsplit" -> n <= 2 ? rsplit(s, chars(args, 0), n == 2 ? toInt(args[1]) : -1) : UNKNOWN;
            case "splitlines" -> n == 0 ? s.lines().toList() : UNKNOWN;
            case "replace" -> n == 2 || n == 3 ? replace(s, str(args[0]), str(args[1]), n == 3 ? toInt(args[2]) : -1) : UNKNOWN;
            case "find" -> n == 1 ? (long) s.indexOf(str(args[0])) : UNKNOWN;
            case "rfind" -> n == 1 ? (long) s.lastIndexOf(str(args[0])) : UNKNOWN;
            case "count" -> n == 1 ? count(s, str(args[0])) : UNKNOWN;
            case "join" -> n == 1 ? join(s, args[0]) : UNKNOWN;
            case "removeprefix" -> n == 1 ? (s.startsWith(str(args[0])) ? s.substring(str(args[0]).length()) : s) : UNKNOWN;
            case "removesuffix" -> n == 1 ? (s.endsWith(str(args[0])) && !str(args[0]).isEmpty()
                    ? s.substring(0, s.length() - str(args[0]).length()) : s) : UNKNOWN;
            case "isspace" -> n == 0 ? !s.isEmpty() && s.codePoints().allMatch(PythonStrings::isSpace) : UNKNOWN;
            case "isdigit" -> n == 0 ? !s.isEmpty() && s.codePoints().allMatch(Character::isDigit) : UNKNOWN;
            case "isalpha" -> n == 0 ? !s.isEmpty() && s.codePoints().allMatch(Character::isLetter) : UNKNOWN;
            case "isalnum" -> n == 0 ? !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit) : UNKNOWN;
            case "islower" -> n == 0 ? s.chars().anyMatch(Character::isLowerCase) && s.equals(s.toLowerCase(Locale.ROOT)) : UNKNOWN;
            case "isupper" -> n == 0 ? s.chars().anyMatch(Character::isUpperCase) && s.equals(s.toUpperCase(Locale.ROOT)) : UNKNOWN;
            default -> UNKNOWN;
        };
    }

    /** Python's str.isspace for one code point. */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    /** str.strip/lstrip/rstrip: whitespace when {@code chars} is null, else any of those characters. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        if (left) {
            while (start < end) {
                int c = s.codePointAt(start);
                if (!stripped(c, chars)) break;
                start += Character.charCount(c);
            }
        }
        if (right) {
            while (end > start) {
                int c = s.codePointBefore(end);
                if (!stripped(c, chars)) break;
                end -= Character.charCount(c);
            }
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
    }

    private static boolean affix(String s, Object arg, boolean prefix) {
        if (arg instanceof Collection<?> options) { // Python accepts a tuple of prefixes
            for (Object o : options) if (affix(s, o, prefix)) return true;
            return false;
        }
        String a = str(arg);
        return prefix ? s.startsWith(a) : s.endsWith(a);
    }

    /** str.split: on whitespace runs (dropping empty parts) when {@code sep} is null, else on each {@code sep}. */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int len = s.length();
            while (true) {
                while (i < len && isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                if (i >= len) break;
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(s.substring(i));
                    break;
                }
                int j = i;
                while (j < len && !isSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    static List<String> rsplit(String s, String sep, int maxSplit) {
        if (maxSplit < 0) return split(s, sep, -1);
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int end = s.length();
            while (true) {
                while (end > 0 && isSpace(s.codePointBefore(end))) end -= Character.charCount(s.codePointBefore(end));
                if (end <= 0) break;
                if (out.size() == maxSplit) {
                    out.addFirst(s.substring(0, end));
                    break;
                }
                int j = end;
                while (j > 0 && !isSpace(s.codePointBefore(j))) j -= Character.charCount(s.codePointBefore(j));
                out.addFirst(s.substring(j, end));
                end = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int to = s.length();
        while (out.size() < maxSplit) {
            int at = s.lastIndexOf(sep, to - sep.length());
            if (at < 0) break;
            out.addFirst(s.substring(at + sep.length(), to));
            to = at;
        }
        out.addFirst(s.substring(0, to));
        return out;
    }

    private static String replace(String s, String old, String with, int count) {
        if (count < 0) return s.replace(old, with);
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (int done = 0; done < count; done++) {
            int at = s.indexOf(old, from);
            if (at < 0) break;
            sb.append(s, from, at).append(with);
            from = at + old.length();
            if (old.isEmpty()) {
                if (from >= s.length()) { from = s.length(); break; }
                sb.append(s.charAt(from++));
            }
        }
        return sb.append(s.substring(Math.min(from, s.length()))).toString();
    }

    private static long count(String s, String sub) {
        if (sub.isEmpty()) return s.codePointCount(0, s.length()) + 1L;
        long c = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) c++;
        return c;
    }

    private static String join(String sep, Object items) {
        List<String> parts = new ArrayList<>();
        if (items instanceof Iterable<?> it) {
            for (Object o : it) parts.add(str(o));
        } else if (items instanceof Object[] arr) {
            for (Object o : arr) parts.add(str(o));
        } else {
            String s = str(items);
            s.codePoints().forEach(cp -> parts.add(Character.toString(cp)));
        }
        return String.join(sep, parts);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            boolean cased = Character.isLetter(c);
            sb.appendCodePoint(cased ? (prevCased ? Character.toLowerCase(c) : Character.toTitleCase(c)) : c);
            prevCased = cased;
            i += Character.charCount(c);
        }
        return sb.toString();
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int first = s.codePointAt(0);
        return new StringBuilder().appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT)).toString();
    }

    private static String chars(Object[] args, int i) {
        return i < args.length && args[i] != null ? str(args[i]) : null;
    }

    private static String str(Object o) {
        return o == null ? "None" : o.toString();
    }

    private static int toInt(Object o) {
        if (o instanceof Number num) return num.intValue();
        return Integer.parseInt(str(o));
    }
}
