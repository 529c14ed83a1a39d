package io.tandem.loadtests.serving;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * Two servers side by side, level by level, with the candidate's ratios against issue 12's serving targets: output
 * tokens/s at least 1.2x the baseline's, TTFT p50 at most the baseline's, ITL p99 at most 1.5x; and the gateway's own
 * share at the highest level: router decision p99 at most 1 ms, admission plus token relay p99 at most 2 ms.
 *
 * <p>The servers may have run several rounds (baseline, candidate, baseline, candidate, ..): a shared machine moves a
 * single run by 20 % or more. Each ratio is then the median of the rounds' ratios (round i's candidate against round
 * i's baseline, which ran just before it), shown with their range; the values are the medians of the rounds'.
 *
 * <p>Where the results kept each request's timings, a second table gives both servers' goodput at an {@link Slo}.
 */
public record Comparison(String baseline, String candidate, int rounds, List<Row> rows) {
    static final double TOKENS_TARGET = 1.2, TTFT_P50_TARGET = 1.0, ITL_P99_TARGET = 1.5;
    static final double DECISION_P99_MS = 1.0, OVERHEAD_P99_MS = 2.0;

    /** One concurrency level: the baseline's and the candidate's result of each round, in round order. */
    public record Row(int concurrency, List<LevelResult> base, List<LevelResult> cand) {
        double[] tokensRatios() {
            return ratios(LevelResult::outTokensPerSec);
        }

        double[] ttftP50Ratios() {
            return ratios(l -> l.ttftMs().p50());
        }

        double[] itlP99Ratios() {
            return ratios(l -> l.itlMs().p99());
        }

        private double[] ratios(ToDoubleFunction<LevelResult> value) {
            double[] r = new double[base.size()];
            for (int i = 0; i < r.length; i++) r[i] = value.applyAsDouble(cand.get(i)) / value.applyAsDouble(base.get(i));
            return r;
        }
    }

    public static Comparison of(JsonObject baseline, JsonObject candidate) {
        return of(List.of(baseline), List.of(candidate));
    }

    /** Round i of the baseline beside round i of the candidate; the levels every round of both has. */
    public static Comparison of(List<JsonObject> baselines, List<JsonObject> candidates) {
        if (baselines.isEmpty() || baselines.size() != candidates.size()) {
            throw new IllegalArgumentException("need the same number of baseline and candidate rounds, got "
                    + baselines.size() + " and " + candidates.size());
        }
        List<Row> rows = new ArrayList<>();
        for (Object o : candidates.getFirst().getJsonArray("levels")) {
            int c = ((JsonObject) o).getInteger("concurrency");
            List<LevelResult> base = levels(baselines, c), cand = levels(candidates, c);
            if (base.size() == baselines.size() && cand.size() == candidates.size()) rows.add(new Row(c, base, cand));
        }
        return new Comparison(baselines.getFirst().getString("label"), candidates.getFirst().getString("label"),
                baselines.size(), List.copyOf(rows));
    }

    /** The same results under other names (two runs of one server with different flags, say). */
    public Comparison named(String baselineName, String candidateName) {
        return new Comparison(baselineName, candidateName, rounds, rows);
    }

    private static List<LevelResult> levels(List<JsonObject> runs, int concurrency) {
        List<LevelResult> found = new ArrayList<>();
        for (JsonObject run : runs) {
            for (Object o : run.getJsonArray("levels")) {
                LevelResult l = LevelResult.fromJson((JsonObject) o);
                if (l.concurrency() == concurrency) found.add(l);
            }
        }
        return found;
    }

    /** {@link #table(Slo)} at {@link Slo#CHAT}. */
    public String table() {
        return table(Slo.CHAT);
    }

    /** A Markdown table, then the goodput at {@code slo} where the results have timings, then the gateway's share. */
    public String table(Slo slo) {
        StringBuilder s = new StringBuilder();
        if (rounds > 1) {
            s.append(f("%d rounds: each value the median of the rounds', each ratio the median of the rounds' ratios "
                    + "(their range in brackets); failed and cut summed%n%n", rounds));
        }
        String vs = baseline + " / " + candidate;
        s.append("| c | out tok/s ").append(vs).append(" | ratio (>= 1.2) | TTFT p50 ms | ratio (<= 1.0) | TTFT p99 ms")
                .append(" | ITL p50 ms | ITL p99 ms | ratio (<= 1.5) | failed | cut at the end |\n");
        s.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            List<LevelResult> b = r.base(), c = r.cand();
            s.append(f("| %d | %.1f / %.1f | %s | %.0f / %.0f | %s | %.0f / %.0f | %.1f / %.1f | %.1f / %.1f | %s | %d / %d | %d / %d |\n",
                    r.concurrency(), median(b, LevelResult::outTokensPerSec), median(c, LevelResult::outTokensPerSec),
                    verdict(r.tokensRatios(), TOKENS_TARGET, true),
                    median(b, l -> l.ttftMs().p50()), median(c, l -> l.ttftMs().p50()),
                    verdict(r.ttftP50Ratios(), TTFT_P50_TARGET, false),
                    median(b, l -> l.ttftMs().p99()), median(c, l -> l.ttftMs().p99()),
                    median(b, l -> l.itlMs().p50()), median(c, l -> l.itlMs().p50()),
                    median(b, l -> l.itlMs().p99()), median(c, l -> l.itlMs().p99()),
                    verdict(r.itlP99Ratios(), ITL_P99_TARGET, false),
                    sum(b, LevelResult::failed), sum(c, LevelResult::failed), sum(b, LevelResult::cut), sum(c, LevelResult::cut)));
        }
        if (rows.stream().anyMatch(r -> hasTimings(r.base()) || hasTimings(r.cand()))) {
            s.append(f("%nGoodput at TTFT <= %.0f ms and TPOT <= %.0f ms: the requests that completed within both, "
                    + "per second of the window, and their share of the level's requests%s%n", slo.ttftMs(),
                    slo.tpotMs(), rounds > 1 ? " (medians over the rounds)" : ""));
            s.append("| c | goodput req/s ").append(vs).append(" | SLO met ").append(vs).append(" |\n")
                    .append("|---:|---:|---:|\n");
            for (Row r : rows) {
                s.append(f("| %d | %s / %s | %s / %s |\n", r.concurrency(), goodput(r.base(), slo),
                        goodput(r.cand(), slo), attainment(r.base(), slo), attainment(r.cand(), slo)));
            }
        }
        for (Row r : rows) {
            if (r.cand().stream().anyMatch(l -> l.gateway() == null)) continue;
            List<JsonObject> g = r.cand().stream().map(LevelResult::gateway).toList();
            List<JsonObject> decision = g.stream().map(x -> x.getJsonObject("router_decision_ms")).toList();
            List<JsonObject> admit = g.stream().map(x -> x.getJsonObject("overhead_admit_ms")).toList();
            List<JsonObject> token = g.stream().map(x -> x.getJsonObject("overhead_token_ms")).toList();
            double[] decisionP99 = values(decision, "p99"), added = new double[rounds];
            for (int i = 0; i < rounds; i++) added[i] = Summary.num(admit.get(i), "p99") + Summary.num(token.get(i), "p99");
            s.append(f("%n%s's own share during the c=%d level (its /metrics histograms over the level%s):%n", candidate,
                    r.concurrency(), rounds > 1 ? "; medians over the rounds" : ""));
            s.append("| metric | p50 ms | p99 ms | count | target |\n|---|---:|---:|---:|---|\n");
            s.append(line("router decision (`tandem_router_decision_seconds`)", decision,
                    f("p99 <= %.0f ms: %s", DECISION_P99_MS, met(decisionP99, DECISION_P99_MS))));
            s.append(line("admit: received -> worker accepted (`tandem_gateway_overhead_seconds{phase=\"admit\"}`)", admit, ""));
            s.append(line("token: worker token -> client write (`{phase=\"token\"}`)", token,
                    f("admit + token p99 = %.3f ms <= %.0f ms: %s", median(added), OVERHEAD_P99_MS, met(added, OVERHEAD_P99_MS))));
        }
        return s.toString();
    }

    private static boolean hasTimings(List<LevelResult> rounds) {
        return rounds.stream().allMatch(l -> l.timings() != null);
    }

    private static String goodput(List<LevelResult> rounds, Slo slo) {
        return hasTimings(rounds) ? f("%.2f", median(rounds, slo::goodput)) : "—";
    }

    private static String attainment(List<LevelResult> rounds, Slo slo) {
        return hasTimings(rounds) ? f("%.0f %%", 100 * median(rounds, slo::attainment)) : "—";
    }

    private String line(String what, List<JsonObject> h, String target) {
        return f("| %s | %.3f | %.3f | %.0f | %s |\n", what, median(values(h, "p50")), median(values(h, "p99")),
                Arrays.stream(values(h, "count")).sum(), target);
    }

    /** "met" / "MISSED" for one round; with several, in how many of them the p99 was within the target. */
    private String met(double[] p99s, double target) {
        long met = Arrays.stream(p99s).filter(v -> v <= target).count();
        if (rounds == 1) return met == 1 ? "met" : "MISSED";
        return f("met in %d of %d rounds", met, rounds);
    }

    private String verdict(double[] ratios, double target, boolean atLeast) {
        double ratio = median(ratios);
        boolean met = atLeast ? ratio >= target : ratio <= target;
        String range = rounds > 1 ? f(" (%.2f–%.2f)", Arrays.stream(ratios).min().orElseThrow(),
                Arrays.stream(ratios).max().orElseThrow()) : "";
        return f("%.2f%s%s", ratio, met ? "" : " ✗", range);
    }

    /** {@link #toJson(Slo)} at {@link Slo#CHAT}. */
    public JsonObject toJson() {
        return toJson(Slo.CHAT);
    }

    /** The table's figures; each level's {@code goodput} (requests/s at {@code slo}) where the results have timings. */
    public JsonObject toJson(Slo slo) {
        JsonArray levels = new JsonArray();
        for (Row r : rows) {
            double tokens = median(r.tokensRatios()), ttft = median(r.ttftP50Ratios()), itl = median(r.itlP99Ratios());
            JsonObject level = new JsonObject().put("concurrency", r.concurrency())
                    .put(baseline, rounds == 1 ? r.base().getFirst().toJson() : results(r.base()))
                    .put(candidate, rounds == 1 ? r.cand().getFirst().toJson() : results(r.cand()))
                    .put("ratios", new JsonObject().put("out_tokens_per_second", tokens).put("ttft_p50", ttft).put("itl_p99", itl))
                    .put("targets_met", new JsonObject().put("out_tokens_per_second", tokens >= TOKENS_TARGET)
                            .put("ttft_p50", ttft <= TTFT_P50_TARGET).put("itl_p99", itl <= ITL_P99_TARGET));
            if (hasTimings(r.base()) || hasTimings(r.cand())) {
                JsonObject goodput = new JsonObject()
                        .put("slo", new JsonObject().put("ttft_ms", slo.ttftMs()).put("tpot_ms", slo.tpotMs()));
                if (hasTimings(r.base())) goodput.put(baseline, median(r.base(), slo::goodput));
                if (hasTimings(r.cand())) goodput.put(candidate, median(r.cand(), slo::goodput));
                level.put("goodput_requests_per_second", goodput);
            }
            if (rounds > 1) {
                level.put("rounds_ratios", new JsonObject().put("out_tokens_per_second", array(r.tokensRatios()))
                        .put("ttft_p50", array(r.ttftP50Ratios())).put("itl_p99", array(r.itlP99Ratios())));
            }
            levels.add(level);
        }
        return new JsonObject().put("baseline", baseline).put("candidate", candidate).put("rounds", rounds).put("levels", levels);
    }

    private static JsonArray results(List<LevelResult> rounds) {
        JsonArray a = new JsonArray();
        rounds.forEach(l -> a.add(l.toJson()));
        return a;
    }

    private static JsonArray array(double[] values) {
        JsonArray a = new JsonArray();
        for (double v : values) a.add(v);
        return a;
    }

    private static double[] values(List<JsonObject> histograms, String key) {
        return histograms.stream().mapToDouble(h -> Summary.num(h, key)).toArray();
    }

    private static double median(List<LevelResult> rounds, ToDoubleFunction<LevelResult> value) {
        return median(rounds.stream().mapToDouble(value).toArray());
    }

    private static int sum(List<LevelResult> rounds, ToIntFunction<LevelResult> value) {
        return rounds.stream().mapToInt(value).sum();
    }

    /** The middle value, or the mean of the two middle ones. */
    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    private static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
