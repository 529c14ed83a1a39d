package io.tandem.gateway.postprocess;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class StopMatcherTest {

    /** Feeds pieces, returns everything emitted (including the flush when no stop matched). */
    private static String run(List<String> stops, String... pieces) {
        StopMatcher m = new StopMatcher(stops);
        StringBuilder out = new StringBuilder();
        for (String p : pieces) out.append(m.push(p).text());
        out.append(m.flush());
        return out.toString();
    }

    @Test
    void noStopsPassesEverythingThrough() {
        StopMatcher m = new StopMatcher(List.of());
        assertEquals("abc", m.push("abc").text());
        assertFalse(m.stopped());
    }

    @Test
    void stopInsideOnePiece() {
        StopMatcher m = new StopMatcher(List.of("END"));
        StopMatcher.Result r = m.push("helloENDworld");
        assertEquals("hello", r.text());
        assertTrue(r.stopped());
        assertEquals("", m.push("more").text());
        assertEquals("", m.flush());
    }

    @Test
    void stopSpanningPiecesIsHeldBackThenDropped() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("ab", m.push("abE").text());
        assertEquals("", m.push("N").text());
        StopMatcher.Result r = m.push("Dzz");
        assertEquals("", r.text());
        assertTrue(r.stopped());
    }

    @Test
    void falseStartIsReleased() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals("ab", m.push("abEN").text());
        assertEquals("ENx", m.push("x").text());
        assertEquals("", m.push("E").text());
        assertEquals("E", m.flush());
    }

    @Test
    void earliestOfSeveralStopsWins() {
        assertEquals("12", run(List.of("45", "3"), "1", "2", "3", "4", "5"));
        assertEquals("a", run(List.of("bcd", "b"), "abcd"));
    }

    @Test
    void overlappingPrefixes() {
        // "aab" must be found although "aa" was held as a partial of it
        assertEquals("xa", run(List.of("aab"), "x", "a", "a", "a", "b"));
        assertEquals("xaaac", run(List.of("aab"), "x", "a", "a", "a", "c"));
    }

    /** Property: piecewise matching equals matching on the whole text, for random splits. */
    @Test
    void equalsWholeTextMatchingForRandomSplits() {
        Random rnd = new Random(7);
        String alphabet = "ab c";
        for (int iter = 0; iter < 2000; iter++) {
            String text = randomString(rnd, alphabet, rnd.nextInt(30));
            List<String> stops = new ArrayList<>();
            int k = 1 + rnd.nextInt(3);
            for (int i = 0; i < k; i++) stops.add(randomString(rnd, alphabet, 1 + rnd.nextInt(4)));
            String expected = text;
            int cut = -1;
            for (String s : stops) {
                int at = text.indexOf(s);
                if (at >= 0 && (cut < 0 || at < cut)) cut = at;
            }
            if (cut >= 0) expected = text.substring(0, cut);
            List<String> pieces = new ArrayList<>();
            int i = 0;
            while (i < text.length()) {
                int len = 1 + rnd.nextInt(4);
                pieces.add(text.substring(i, Math.min(text.length(), i + len)));
                i += len;
            }
            assertEquals(expected, run(stops, pieces.toArray(String[]::new)), () -> text + " " + stops + " " + pieces);
        }
    }

    private static String randomString(Random rnd, String alphabet, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        return sb.toString();
    }
}
