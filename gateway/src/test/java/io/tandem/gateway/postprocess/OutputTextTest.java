package io.tandem.gateway.postprocess;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class OutputTextTest {

    private static final Map<Integer, String> PIECES = Map.of(1, " Hello", 2, ",", 3, " wor", 4, "ld", 5, "!");

    private static OutputText text(List<String> stops) {
        return new OutputText(PIECES::get, () -> "", stops);
    }

    @Test
    void passesTextThroughWithoutStops() {
        OutputText t = text(List.of());
        assertEquals(" Hello, wor", t.push(new int[]{1, 2, 3}).text());
        assertEquals("ld", t.push(new int[]{4}).text());
        assertEquals(4, t.consumedTokens());
    }

    @Test
    void stopAcrossTokensCountsConsumedTokens() {
        OutputText t = text(List.of("world"));
        assertEquals(" Hello,", t.push(new int[]{1, 2}).text());
        OutputText.Delta d = t.push(new int[]{3});
        assertEquals(" ", d.text());
        assertFalse(d.stopped());
        d = t.push(new int[]{4, 5, 5});
        assertEquals("", d.text());
        assertTrue(d.stopped());
        assertEquals(4, t.consumedTokens(), "tokens after the one completing the stop are not consumed");
        assertEquals("", t.finish());
    }

    @Test
    void finishReleasesHeldText() {
        OutputText t = new OutputText(PIECES::get, () -> "?", List.of("!!"));
        assertEquals(" Hello", t.push(new int[]{1, 5}).text());
        assertEquals("!?", t.finish());
    }
}
