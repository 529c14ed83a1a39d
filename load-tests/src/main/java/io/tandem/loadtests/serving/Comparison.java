package io.tandem.loadtests.serving;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Two runs side by side, level by level, with the candidate's ratios against issue 12's serving targets: output
 * tokens/s at least 1.2x the baseline's, TTFT p50 at most the baseline's, ITL p99 at most 1.5x; and the gateway's own
 * share at the highest level: router decision p99 at most 1 ms, admission plus token relay p99 at most 2 ms.
 */
public record Comparison(String baseline, String candidate, List<Row> rows) {
    static final double TOKENS_TARGET = 1.2, TTFT_P50_TARGET = 1.0, ITL_P99_TARGET = 1.5;
    static final double DECISION_P99_MS = 1.0, OVERHEAD_P99_MS = 2.0;

    public record Row(int concurrency, LevelResult base, LevelResult cand) {
        double tokensRatio() {
            return cand.outTokensPerSec() / base.outTokensPerSec();
        }

        double ttftP50Ratio() {
            return cand.ttftMs().p50() / base.ttftMs().p50();
        }

        double itlP99Ratio() {
            return cand.itlMs().p99() / base.itlMs().p99();
        }
    }

    public static Comparison of(JsonObject baseline, JsonObject candidate) {
        List<Row> rows = new ArrayList<>();
        JsonArray candLevels = candidate.getJsonArray("levels");
        for (int i = 0; i < candLevels.size(); i++) {
            LevelResult c = LevelResult.fromJson(candLevels.getJsonObject(i));
            for (Object o : baseline.getJsonArray("levels")) {
                LevelResult b = LevelResult.fromJson((JsonObject) o);
                if (b.concurrency() == c.concurrency()) rows.add(new Row(c.concurrency(), b, c));
            }
        }
        return new Comparison(baseline.getString("label"), candidate.getString("label"), List.copyOf(rows));
    }

    /** A Markdown table, then the gateway's share where the candidate has one. */
    public String table() {
        StringBuilder s = new StringBuilder();
        String vs = baseline + " / " + candidate;
        s.append("| c | out tok/s ").append(vs).append(" | ratio (>= 1.2) | TTFT p50 ms | ratio (<= 1.0) | TTFT p99 ms")
                .append(" | ITL p50 ms | ITL p99 ms | ratio (<= 1.5) | failed | cut at the end |\n");
        s.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            LevelResult b = r.base(), c = r.cand();
            s.append(f("| %d | %.1f / %.1f | %s | %.0f / %.0f | %s | %.0f / %.0f | %.1f / %.1f | %.1f / %.1f | %s | %d / %d | %d / %d |\n",
                    r.concurrency(), b.outTokensPerSec(), c.outTokensPerSec(), verdict(r.tokensRatio(), TOKENS_TARGET, true),
                    b.ttftMs().p50(), c.ttftMs().p50(), verdict(r.ttftP50Ratio(), TTFT_P50_TARGET, false),
                    b.ttftMs().p99(), c.ttftMs().p99(), b.itlMs().p50(), c.itlMs().p50(), b.itlMs().p99(), c.itlMs().p99(),
                    verdict(r.itlP99Ratio(), ITL_P99_TARGET, false), b.failed(), c.failed(), b.cut(), c.cut()));
        }
        for (Row r : rows) {
            JsonObject g = r.cand().gateway();
            if (g == null) continue;
            JsonObject decision = g.getJsonObject("router_decision_ms"), admit = g.getJsonObject("overhead_admit_ms"),
                    token = g.getJsonObject("overhead_token_ms");
            double added = Summary.num(admit, "p99") + Summary.num(token, "p99");
            s.append(f("%n%s's own share during the c=%d level (its /metrics histograms over the level):%n", candidate, r.concurrency()));
            s.append("| metric | p50 ms | p99 ms | count | target |\n|---|---:|---:|---:|---|\n");
            s.append(line("router decision (`tandem_router_decision_seconds`)", decision,
                    f("p99 <= %.0f ms: %s", DECISION_P99_MS, Summary.num(decision, "p99") <= DECISION_P99_MS ? "met" : "MISSED")));
            s.append(line("admit: received -> worker accepted (`tandem_gateway_overhead_seconds{phase=\"admit\"}`)", admit, ""));
            s.append(line("token: worker token -> client write (`{phase=\"token\"}`)", token,
                    f("admit + token p99 = %.3f ms <= %.0f ms: %s", added, OVERHEAD_P99_MS, added <= OVERHEAD_P99_MS ? "met" : "MISSED")));
        }
        return s.toString();
    }

    private static String line(String what, JsonObject h, String target) {
        return f("| %s | %.3f | %.3f | %.0f | %s |\n", what, Summary.num(h, "p50"), Summary.num(h, "p99"), Summary.num(h, "count"), target);
    }

    private static String verdict(double ratio, double target, boolean atLeast) {
        boolean met = atLeast ? ratio >= target : ratio <= target;
        return f("%.2f%s", ratio, met ? "" : " ✗");
    }

    public JsonObject toJson() {
        JsonArray levels = new JsonArray();
        for (Row r : rows) {
            levels.add(new JsonObject().put("concurrency", r.concurrency())
                    .put(baseline, r.base().toJson()).put(candidate, r.cand().toJson())
                    .put("ratios", new JsonObject().put("out_tokens_per_second", r.tokensRatio())
                            .put("ttft_p50", r.ttftP50Ratio()).put("itl_p99", r.itlP99Ratio()))
                    .put("targets_met", new JsonObject().put("out_tokens_per_second", r.tokensRatio() >= TOKENS_TARGET)
                            .put("ttft_p50", r.ttftP50Ratio() <= TTFT_P50_TARGET).put("itl_p99", r.itlP99Ratio() <= ITL_P99_TARGET)));
        }
        return new JsonObject().put("baseline", baseline).put("candidate", candidate).put("levels", levels);
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
