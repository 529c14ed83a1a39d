package io.tandem.gateway.postprocess;

import java.util.List;

/**
 * Applies stop strings to text that arrives in pieces. A stop string may span pieces, so the
 * matcher holds back the longest suffix of the text seen so far that could still become a stop
 * string, and releases it once it cannot. Text from a matched stop string on is never released.
 */
public final class StopMatcher {

    /** What one {@link #push} yields: text safe to emit, and whether a stop string matched. */
    public record Result(String text, boolean stopped) {}

    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    public StopMatcher(List<String> stops) {
        for (String s : stops) if (s.isEmpty()) throw new IllegalArgumentException("empty stop string");
        this.stops = List.copyOf(stops);
    }

    public boolean stopped() {
        return stopped;
    }

    /** Adds text; returns what may be emitted now. After a match every push returns nothing. */
    public Result push(String text) {
        if (stopped) return new Result("", true);
        if (stops.isEmpty()) return new Result(text, false);
        held.append(text);
        int match = earliestMatch();
        if (match >= 0) {
            stopped = true;
            String out = held.substring(0, match);
            held.setLength(0);
            return new Result(out, true);
        }
        int keep = longestPartialSuffix();
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return new Result(out, false);
    }

    /** End of generation: whatever was held back is plain text after all. */
    public String flush() {
        if (stopped) return "";
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    private int earliestMatch() {
        int best = -1;
        for (String s : stops) {
            int at = held.indexOf(s);
            if (at >= 0 && (best < 0 || at < best)) best = at;
        }
        return best;
    }

    /** Length of the longest suffix of the held text that is a proper prefix of some stop string. */
    private int longestPartialSuffix() {
        int best = 0;
        for (String s : stops) {
            int max = Math.min(s.length() - 1, held.length());
            for (int len = max; len > best; len--) {
                if (regionEquals(held, held.length() - len, s, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }

    private static boolean regionEquals(CharSequence text, int from, String prefixOf, int len) {
        for (int i = 0; i < len; i++) if (text.charAt(from + i) != prefixOf.charAt(i)) return false;
        return true;
    }
}
