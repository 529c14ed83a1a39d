package io.tandem.loadtests.serving;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The serving comparison: one round as before, several rounds as medians of the rounds' values and ratios. */
class ComparisonTest {

    private static JsonObject run(String label, double tokensPerSec, double ttftP50, double itlP99, Double decisionP99) {
        return run(label, tokensPerSec, ttftP50, itlP99, decisionP99, null);
    }

    private static JsonObject run(String label, double tokensPerSec, double ttftP50, double itlP99, Double decisionP99,
                                  List<RequestTiming> timings) {
        JsonObject level = new LevelResult(16, 40, tokensPerSec, 96, 0, 0,
                new Summary(96, ttftP50, ttftP50 * 2, ttftP50, ttftP50 * 3), new Summary(12000, 50, itlP99, 60, itlP99 * 2),
                List.of(), decisionP99 == null ? null : new JsonObject()
                        .put("router_decision_ms", new JsonObject().put("p50", 0.05).put("p99", decisionP99).put("count", 96))
                        .put("overhead_admit_ms", new JsonObject().put("p50", 0.4).put("p99", 1.0).put("count", 96))
                        .put("overhead_token_ms",
                                new JsonObject().put("p50", 0.03).put("p99", 0.4).put("count", 12000)),
                timings).toJson();
        return new JsonObject().put("label", label).put("levels", new JsonArray().add(level));
    }

    @Test
    void oneRoundIsTheTwoRunsSideBySide() {
        String table = Comparison.of(run("llama-server", 200, 2000, 300, null), run("Tandem", 260, 600, 150, 0.2)).table();
        assertTrue(table.contains("| 16 | 200.0 / 260.0 | 1.30 | 2000 / 600 | 0.30 | 4000 / 1200 | 50.0 / 50.0 | 300.0 / 150.0 | 0.50 | 0 / 0 | 0 / 0 |"), table);
        assertTrue(table.contains("p99 <= 1 ms: met"), table);
        assertTrue(table.contains("admit + token p99 = 1.400 ms <= 2 ms: met"), table);
        assertFalse(table.contains("rounds"), table);
    }

    @Test
    void roundsGiveMediansAndTheRangeOfTheirRatios() {
        // round ratios of tokens/s: 1.5, 1.0, 1.3 (median 1.3, not the ratio of medians 260 / 220 = 1.18)
        List<JsonObject> base = List.of(run("llama-server", 200, 2000, 300, null), run("llama-server", 260, 1800, 200, null),
                run("llama-server", 220, 2200, 250, null));
        List<JsonObject> cand = List.of(run("Tandem", 300, 600, 150, 0.2), run("Tandem", 260, 700, 400, 4.0),
                run("Tandem", 286, 500, 200, 0.3));
        Comparison c = Comparison.of(base, cand);
        String table = c.table();
        assertTrue(table.startsWith("3 rounds:"), table);
        assertTrue(table.contains("| 16 | 220.0 / 286.0 | 1.30 (1.00–1.50) |"), table);
        // ITL p99 ratios 0.5, 2.0, 0.8: median 0.8, met, though one round missed
        assertTrue(table.contains("| 250.0 / 200.0 | 0.80 (0.50–2.00) |"), table);
        assertTrue(table.contains("p99 <= 1 ms: met in 2 of 3 rounds"), table);
        assertTrue(table.contains("| router decision (`tandem_router_decision_seconds`) | 0.050 | 0.300 | 288 |"), table);
        JsonObject json = c.toJson();
        assertEquals(3, json.getInteger("rounds"));
        JsonObject level = json.getJsonArray("levels").getJsonObject(0);
        assertEquals(1.3, level.getJsonObject("ratios").getDouble("out_tokens_per_second"), 1e-9);
        assertEquals(3, level.getJsonObject("rounds_ratios").getJsonArray("itl_p99").size());
        assertEquals(3, level.getJsonArray("Tandem").size());
    }

    @Test
    void resultsWithTimingsGiveEachSidesGoodputAtTheSlo() {
        // 96 requests started per level; timings kept for the complete ones
        List<RequestTiming> fast = Collections.nCopies(80, new RequestTiming(400, 50));
        List<RequestTiming> slow = Collections.nCopies(40, new RequestTiming(1500, 50));
        List<RequestTiming> mixed = new ArrayList<>(fast.subList(0, 48));
        mixed.addAll(slow);
        Comparison c = Comparison.of(run("Tandem", 300, 300, 60, 0.2, fast), run("Tandem", 320, 900, 50, 0.2, mixed))
                .named("aggregated", "disaggregated");
        String table = c.table(Slo.CHAT);
        assertTrue(table.contains("out tok/s aggregated / disaggregated"), table);
        assertTrue(table.contains("Goodput at TTFT <= 1000 ms and TPOT <= 100 ms"), table);
        // 80 / 40 s and 48 / 40 s; 80 / 96 and 48 / 96 of the requests
        assertTrue(table.contains("| 16 | 2.00 / 1.20 | 83 % / 50 % |"), table);
        assertTrue(c.table(new Slo(2000, 100)).contains("| 16 | 2.00 / 2.20 | 83 % / 92 % |"), "a looser TTFT limit");
        JsonObject goodput = c.toJson(Slo.CHAT).getJsonArray("levels").getJsonObject(0)
                .getJsonObject("goodput_requests_per_second");
        assertEquals(2.0, goodput.getDouble("aggregated"), 1e-12);
        assertEquals(1.2, goodput.getDouble("disaggregated"), 1e-12);
        assertEquals(1000.0, goodput.getJsonObject("slo").getDouble("ttft_ms"));
    }

    @Test
    void timingsSurviveTheResultFileAndOlderFilesShowNoGoodput() {
        JsonObject withTimings = run("Tandem", 300, 300, 60, 0.2, List.of(new RequestTiming(412.5, 37.25)));
        LevelResult back = LevelResult.fromJson(withTimings.getJsonArray("levels").getJsonObject(0));
        assertEquals(List.of(new RequestTiming(412.5, 37.25)), back.timings());
        String table = Comparison.of(run("llama-server", 200, 2000, 300, null), withTimings).table();
        assertTrue(table.contains("| 16 | — / 0.03 | — / 1 % |"), table);
        String neither = Comparison.of(run("llama-server", 200, 2000, 300, null), run("Tandem", 260, 600, 150, 0.2))
                .table();
        assertFalse(neither.contains("Goodput"), neither);
    }

    @Test
    void roundsMustPairUp() {
        assertThrows(IllegalArgumentException.class, () -> Comparison.of(List.of(run("a", 1, 1, 1, null)), List.of()));
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, Comparison.median(new double[] {4, 1, 3, 2}));
        assertEquals(3.0, Comparison.median(new double[] {5, 3, 1}));
    }
}
