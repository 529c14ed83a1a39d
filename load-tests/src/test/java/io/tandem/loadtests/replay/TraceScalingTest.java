package io.tandem.loadtests.replay;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceScalingTest {
    static final Scaling S = new Scaling(16, 4096, 256, 10);

    @Test
    void parsesAMooncakeLine() {
        TraceEntry e = TraceEntry.parse("{\"timestamp\": 27482, \"input_length\": 6955, \"output_length\": 52, "
                + "\"hash_ids\": [46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 2353, 2354]}", "t:1");
        assertEquals(27482, e.timestampMs());
        assertEquals(6955, e.inputLength());
        assertEquals(52, e.outputLength());
        assertArrayEquals(new long[] {46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 2353, 2354}, e.hashIds());
    }

    @Test
    void aBadLineNamesWhereItIs() {
        var e = assertThrows(IllegalArgumentException.class, () -> TraceEntry.parse("{\"timestamp\": 1}", "trace.jsonl:7"));
        assertTrue(e.getMessage().startsWith("trace.jsonl:7: not a Mooncake trace line"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TraceEntry.parse("not json", "x:1"));
    }

    @Test
    void readsTheSmallTraceAndHonoursTheLimit() {
        assertEquals(40, TraceEntry.read(Repo.testdata("traces/mooncake-small.jsonl"), Integer.MAX_VALUE).size());
        assertEquals(5, TraceEntry.read(Repo.testdata("traces/mooncake-small.jsonl"), 5).size());
    }

    @Test
    void lengthsScaleByBlockTokensOver512RoundedUp() {
        assertEquals(16, S.scale(512));
        assertEquals(1, S.scale(1));
        assertEquals(17, S.scale(513));
        assertEquals(2, S.scale(52)); // 52 * 16 / 512 = 1.6
        assertEquals(512, new Scaling(512, 4096, 1024, 1).scale(512));
    }

    @Test
    void aHashIdIsTheSameBlockEveryTimeAndWithinTheVocabulary() {
        assertArrayEquals(S.block(46), new Scaling(16, 4096, 256, 1).block(46));
        assertFalse(Arrays.equals(S.block(46), S.block(47)));
        for (long id = 0; id < 200; id++) {
            for (int t : S.block(id)) assertTrue(t >= 3 && t < 4096, "id " + t + " outside [3, 4096)");
        }
    }

    @Test
    void sharedHashIdsGiveSharedPrefixesAndAPartialLastBlock() {
        ReplayRequest a = S.request(0, new TraceEntry(1000, 512 * 2 + 100, 64, new long[] {1, 2, 3}), 1000);
        ReplayRequest b = S.request(1, new TraceEntry(3000, 512 * 2 + 512, 64, new long[] {1, 2, 9}), 1000);
        assertEquals(32 + 4, a.prompt().length); // 100 * 16 / 512 = 3.1 -> 4
        assertEquals(48, b.prompt().length);
        assertArrayEquals(Arrays.copyOf(a.prompt(), 32), Arrays.copyOf(b.prompt(), 32));
        assertArrayEquals(Arrays.copyOf(S.block(3), 4), Arrays.copyOfRange(a.prompt(), 32, 36));
        assertFalse(Arrays.equals(Arrays.copyOfRange(a.prompt(), 32, 36), Arrays.copyOfRange(b.prompt(), 32, 36)));
        assertEquals(2, a.maxTokens());
        assertEquals(0, a.sendAtNanos());
        assertEquals(200_000_000L, b.sendAtNanos()); // 2000 ms / speedup 10
    }

    @Test
    void promptsThatDoNotFitTheContextAreClippedKeepingTheirPrefix() {
        ReplayRequest r = S.request(0, new TraceEntry(0, 512 * 20, 512 * 2, new long[20]), 0);
        assertTrue(r.clipped());
        assertEquals(32, r.maxTokens());
        assertEquals(256 - 32, r.prompt().length);
        assertArrayEquals(S.block(0), Arrays.copyOf(r.prompt(), 16));
        ReplayRequest fits = S.request(0, new TraceEntry(0, 512 * 14, 512 * 2, new long[14]), 0);
        assertFalse(fits.clipped());
        assertEquals(256, fits.prompt().length + fits.maxTokens());
        ReplayRequest longOutput = S.request(0, new TraceEntry(0, 10, 512 * 100, new long[1]), 0);
        assertTrue(longOutput.clipped());
        assertEquals(255, longOutput.maxTokens());
        assertEquals(1, longOutput.prompt().length);
    }

    @Test
    void inputBeyondTheHashIdsGetsItsOwnTail() {
        ReplayRequest r = S.request(3, new TraceEntry(0, 512 * 3, 10, new long[] {5}), 0);
        assertEquals(48, r.prompt().length);
        assertArrayEquals(S.block(5), Arrays.copyOf(r.prompt(), 16));
        for (int t : r.prompt()) assertTrue(t >= 3 && t < 4096);
    }

    @Test
    void theScheduleIsRelativeToTheFirstRequestAndDividedByTheSpeedup() {
        List<ReplayRequest> rs = new Scaling(16, 4096, 256, 4).requests(List.of(
                new TraceEntry(500, 10, 10, new long[] {1}), new TraceEntry(900, 10, 10, new long[] {2})));
        assertEquals(0, rs.get(0).sendAtNanos());
        assertEquals(100_000_000L, rs.get(1).sendAtNanos());
    }

    @Test
    void badOptionsAreRefusedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Scaling(0, 4096, 256, 1)).getMessage().contains("--block-tokens"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Scaling(16, 4096, 256, 0)).getMessage().contains("--speedup"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Scaling(16, 3, 256, 1)).getMessage().contains("--vocab"));
    }
}
