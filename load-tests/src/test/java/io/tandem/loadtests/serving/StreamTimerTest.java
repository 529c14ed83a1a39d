package io.tandem.loadtests.serving;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class StreamTimerTest {
    private static final long MS = 1_000_000;

    private static String tandem(String text, int soFar) {
        return "data: {\"choices\":[{\"index\":0,\"text\":\"" + text + "\",\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":"
                + soFar + ",\"total_tokens\":" + (4 + soFar) + "}}";
    }

    private static String llama(String text, int predicted, String finish) {
        return "data: {\"choices\":[{\"text\":\"" + text + "\",\"index\":0,\"finish_reason\":" + finish + "}],\"timings\":{\"predicted_n\":"
                + predicted + "}}";
    }

    @Test
    void aMultiTokenEventCountsItsTokensAndSplitsItsGap() {
        StreamTimer t = new StreamTimer(0);
        t.line(tandem("a", 1), 100 * MS);          // first token: TTFT 100 ms
        t.line(tandem("b", 2), 110 * MS);          // one token after 10 ms
        t.line(tandem("cd", 4), 130 * MS);         // two tokens 20 ms later: two gaps of 10 ms
        t.line(tandem("", 4), 131 * MS);           // the finish chunk brings nothing
        t.line("data: {\"choices\":[],\"usage\":{\"completion_tokens\":4}}", 131 * MS);
        t.line("data: [DONE]", 131 * MS);
        StreamTimer.Outcome o = t.outcome(4);
        assertTrue(o.ok(), o.error());
        assertEquals(100 * MS, o.ttftNanos());
        assertArrayEquals(new long[] {10 * MS, 10 * MS, 10 * MS}, o.itlNanos());
        assertEquals(10 * MS, o.tpotNanos(), "30 ms from the first token to the last, over the 3 after the first");
        assertEquals(4, o.tokens());
        assertEquals(2, o.tokensBetween(0, 120 * MS), "the two events before 120 ms hold 2 tokens");
        assertEquals(2, o.tokensBetween(120 * MS, 200 * MS));
    }

    @Test
    void theUsageChunkGivesThePromptAndItsCachedTokens() {
        StreamTimer t = new StreamTimer(0);
        t.line(tandem("a", 1), 10 * MS);
        assertEquals(-1, t.outcome(1).cachedTokens(), "not reported yet");
        t.line("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":48,\"completion_tokens\":1,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":32}}}", 11 * MS);
        t.line("data: [DONE]", 11 * MS);
        StreamTimer.Outcome o = t.outcome(1);
        assertTrue(o.ok(), o.error());
        assertEquals(48, o.promptTokens());
        assertEquals(32, o.cachedTokens());
    }

    @Test
    void llamaServerTimingsCountTokens() {
        StreamTimer t = new StreamTimer(5 * MS);
        t.line(llama("x", 1, "null"), 50 * MS);
        t.line(llama("yz", 3, "null"), 70 * MS); // an incomplete UTF-8 char held one token back
        t.line(llama("", 3, "\"length\""), 71 * MS);
        t.line("data: {\"choices\":[],\"usage\":{\"completion_tokens\":3}}", 71 * MS);
        t.line("data: [DONE]", 71 * MS);
        StreamTimer.Outcome o = t.outcome(3);
        assertTrue(o.ok(), o.error());
        assertEquals(45 * MS, o.ttftNanos());
        assertArrayEquals(new long[] {10 * MS, 10 * MS}, o.itlNanos());
    }

    @Test
    void withoutARunningCountEveryChunkWithTextIsOneToken() {
        StreamTimer t = new StreamTimer(0);
        t.line("data: {\"choices\":[{\"text\":\"a\"}]}", MS);
        t.line("data: {\"choices\":[{\"text\":\"\"}]}", 2 * MS);
        t.line("data: {\"choices\":[{\"text\":\"b\"}]}", 3 * MS);
        t.line("data: [DONE]", 3 * MS);
        StreamTimer.Outcome o = t.outcome(2);
        assertTrue(o.ok(), o.error());
        assertArrayEquals(new long[] {2 * MS}, o.itlNanos());
    }

    @Test
    void shortStreamsErrorsAndMissingDoneFail() {
        StreamTimer short_ = new StreamTimer(0);
        short_.line(tandem("a", 1), MS);
        short_.line("data: [DONE]", MS);
        assertEquals("got 1 tokens, expected 2", short_.outcome(2).error());

        StreamTimer error = new StreamTimer(0);
        error.line("data: {\"error\":{\"message\":\"boom\"}}", MS);
        assertTrue(error.outcome(2).error().contains("boom"));

        StreamTimer cut = new StreamTimer(0);
        cut.line(tandem("a", 1), MS);
        assertEquals("the stream ended without [DONE]", cut.outcome(1).error());

        StreamTimer miscounted = new StreamTimer(0);
        miscounted.line("data: {\"choices\":[{\"text\":\"a\"}]}", MS);
        miscounted.line("data: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}", MS);
        miscounted.line("data: [DONE]", MS);
        assertEquals("counted 1 tokens, usage says 2", miscounted.outcome(1).error());
    }
}
