package io.tandem.loadtests.replay;

import io.tandem.loadtests.serving.StreamTimer;
import io.tandem.protocol.progress.Progress;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsAndPlotTest {

    /** A finished request sent at {@code sentMs}: TTFT, gaps, prompt and cached tokens as the server would report. */
    static Sample sample(long sentMs, long ttftMs, long[] itlMs, int prompt, int cached, String error) {
        long[] itl = new long[itlMs.length];
        for (int i = 0; i < itl.length; i++) itl[i] = itlMs[i] * 1_000_000;
        var outcome = new StreamTimer.Outcome(error, false, ttftMs * 1_000_000, itl, new long[0], new int[0], itl.length + 1, prompt, cached);
        return new Sample(new ReplayRequest(0, sentMs * 1_000_000, new int[Math.max(0, prompt)], itl.length + 1, false), sentMs * 1_000_000, 2_000_000, outcome);
    }

    @Test
    void nearestRankPercentiles() {
        long[] v = new long[100];
        for (int i = 0; i < 100; i++) v[i] = 100 - i;
        assertEquals(50, ReplayStats.percentile(v, 50));
        assertEquals(99, ReplayStats.percentile(v, 99));
        assertEquals(100, ReplayStats.percentile(v, 100));
        assertEquals(7, ReplayStats.percentile(new long[] {7}, 99));
        assertEquals(-1, ReplayStats.percentile(new long[0], 50));
    }

    @Test
    void statsCountFailuresAndComputeGoodputAndTheHitRateOverSuccessfulRequests() {
        List<Sample> samples = List.of(
                sample(0, 10, new long[] {5, 5}, 100, 0, null),
                sample(100, 20, new long[] {7}, 100, 64, null),
                sample(200, 30, new long[] {9, 9, 9}, 100, 96, null),
                sample(300, 1, new long[] {}, 100, 100, "HTTP 500: boom"));
        ReplayStats s = ReplayStats.of(samples, 2_000_000_000L);
        assertEquals(4, s.requests());
        assertEquals(1, s.failed());
        assertEquals(1.5, s.goodput(), 1e-9); // 3 completed in 2 s
        assertEquals(20, s.ttftP50Ms(), 1e-9);
        assertEquals(30, s.ttftP99Ms(), 1e-9);
        assertEquals(7, s.itlP50Ms(), 1e-9); // 5 5 7 9 9 9
        assertEquals(9, s.itlP99Ms(), 1e-9);
        assertEquals(160.0 / 300, s.prefixHitRate(), 1e-9); // the failed request's 100 cached tokens do not count
        assertEquals(2, s.sendLagP50Ms(), 1e-9);
        assertEquals("HTTP 500: boom", s.firstError());
    }

    @Test
    void theJsonLineStartsWithTheIssuesKeysInOrder() {
        ReplayStats s = ReplayStats.of(List.of(sample(0, 10, new long[] {5}, 10, 0, null)), 1_000_000_000L);
        List<String> keys = List.copyOf(s.toJson().fieldNames());
        assertEquals(List.of("requests", "failed", "goodput", "ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms",
                "prefix_hit_rate"), keys.subList(0, 8));
        assertEquals(0.0, s.toJson().getDouble("prefix_hit_rate"));
        assertTrue(s.table().contains("prefix hit rate      0.0 % (0 of 10 prompt tokens)"), s.table());
    }

    @Test
    void withoutCachedTokensTheHitRateIsUnknownNotZero() {
        ReplayStats s = ReplayStats.of(List.of(sample(0, 10, new long[] {5}, -1, -1, null)), 1_000_000_000L);
        assertEquals(-1, s.prefixHitRate());
        assertTrue(s.table().contains("n/a (no cached_tokens)"));
    }

    @Test
    void theProgressLineAndBar() {
        assertEquals("replay: 10/40 done, 12 sent, 1 failed, 2.5 s, ETA 7.5 s",
                Progress.line("replay", "done", 10, 40, "12 sent, 1 failed", 2_500_000_000L, false));
        assertTrue(Progress.line("replay", "done", 20, 40, "", 0, true).startsWith("[###############...............] "));
    }

    @Test
    void thePlotIsWellFormedSvgWithADotPerPanelPerRequest() throws Exception {
        List<Sample> samples = List.of(sample(0, 10, new long[] {5, 5}, 100, 0, null), sample(500, 20, new long[] {7, 8}, 100, 64, null),
                sample(900, 20, new long[] {}, 100, 64, "failed <here> & there"));
        String svg = SvgPlot.render(samples, "a <title> & more");
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", doc.getDocumentElement().getTagName());
        assertEquals(2 * 3, doc.getElementsByTagName("circle").getLength()); // 2 ok requests x 3 panels
        assertEquals(3, doc.getElementsByTagName("g").getLength());
    }

    @Test
    void axisEndsAreRound() {
        assertEquals(1, SvgPlot.niceMax(0));
        assertEquals(50, SvgPlot.niceMax(41));
        assertEquals(200, SvgPlot.niceMax(101));
        assertEquals(0.5, SvgPlot.niceMax(0.31), 1e-12);
        assertEquals(10, SvgPlot.niceMax(10));
    }
}
