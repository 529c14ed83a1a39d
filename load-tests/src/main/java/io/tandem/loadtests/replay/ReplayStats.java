package io.tandem.loadtests.replay;

import io.vertx.core.json.JsonObject;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A replay's results. TTFT and ITL are over the requests that did not fail (every gap of every such request for ITL);
 * the hit rate is their cached prompt tokens over their prompt tokens, as the server reported them in {@code usage}.
 *
 * @param goodput        requests per second that completed without error: completed requests over the run's wall time
 *                       (first send to last response); no SLO is applied
 * @param prefixHitRate  -1 when the server reported no {@code cached_tokens}
 * @param firstError     the first failure's reason, or null
 */
public record ReplayStats(int requests, int failed, double goodput, double ttftP50Ms, double ttftP99Ms, double itlP50Ms,
                          double itlP99Ms, double prefixHitRate, double sendLagP50Ms, double sendLagMaxMs, int clipped,
                          double durationSeconds, long promptTokens, long cachedTokens, String firstError) {

    public static ReplayStats of(List<Sample> samples, long wallNanos) {
        List<Sample> ok = samples.stream().filter(s -> !s.failed()).toList();
        long[] ttft = ok.stream().mapToLong(s -> s.outcome().ttftNanos()).filter(t -> t >= 0).toArray();
        long[] itl = ok.stream().flatMapToLong(s -> Arrays.stream(s.outcome().itlNanos())).toArray();
        long[] lag = samples.stream().mapToLong(s -> Math.max(0, s.lagNanos())).toArray();
        long prompt = 0, cached = 0;
        boolean reported = false;
        for (Sample s : ok) {
            if (s.outcome().promptTokens() > 0 && s.outcome().cachedTokens() >= 0) {
                reported = true;
                prompt += s.outcome().promptTokens();
                cached += s.outcome().cachedTokens();
            }
        }
        double seconds = wallNanos / 1e9;
        String firstError = samples.stream().filter(Sample::failed)
                .map(s -> s.outcome().cut() ? "cut at the end of the run" : s.outcome().error()).findFirst().orElse(null);
        return new ReplayStats(samples.size(), samples.size() - ok.size(), seconds > 0 ? ok.size() / seconds : 0,
                ms(percentile(ttft, 50)), ms(percentile(ttft, 99)), ms(percentile(itl, 50)), ms(percentile(itl, 99)),
                reported && prompt > 0 ? (double) cached / prompt : -1, ms(percentile(lag, 50)), ms(percentile(lag, 100)),
                (int) samples.stream().filter(s -> s.request().clipped()).count(), seconds, prompt, cached, firstError);
    }

    /** Nearest-rank percentile {@code p} (0..100] of {@code values}; -1 when there are none. */
    static long percentile(long[] values, double p) {
        if (values.length == 0) return -1;
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.clamp(rank - 1, 0, sorted.length - 1)];
    }

    private static double ms(long nanos) {
        return nanos < 0 ? -1 : nanos / 1e6;
    }

    /** One JSON object; the eight keys first, in that order. -1 stands for "no value". */
    public JsonObject toJson() {
        JsonObject o = new JsonObject()
                .put("requests", requests).put("failed", failed).put("goodput", round(goodput))
                .put("ttft_p50_ms", round(ttftP50Ms)).put("ttft_p99_ms", round(ttftP99Ms))
                .put("itl_p50_ms", round(itlP50Ms)).put("itl_p99_ms", round(itlP99Ms))
                .put("prefix_hit_rate", round(prefixHitRate))
                .put("send_lag_p50_ms", round(sendLagP50Ms)).put("send_lag_max_ms", round(sendLagMaxMs))
                .put("clipped", clipped).put("duration_s", round(durationSeconds))
                .put("prompt_tokens", promptTokens).put("cached_tokens", cachedTokens);
        if (firstError != null) o.put("first_error", firstError);
        return o;
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** The human-readable table. */
    public String table() {
        StringBuilder t = new StringBuilder();
        row(t, "requests", Integer.toString(requests));
        row(t, "failed", Integer.toString(failed));
        row(t, "clipped to context", Integer.toString(clipped));
        row(t, "duration", String.format(Locale.ROOT, "%.2f s", durationSeconds));
        row(t, "goodput", String.format(Locale.ROOT, "%.2f req/s", goodput));
        row(t, "TTFT p50 / p99", pair(ttftP50Ms, ttftP99Ms));
        row(t, "ITL p50 / p99", pair(itlP50Ms, itlP99Ms));
        row(t, "prefix hit rate", prefixHitRate < 0 ? "n/a (no cached_tokens)"
                : String.format(Locale.ROOT, "%.1f %% (%d of %d prompt tokens)", prefixHitRate * 100, cachedTokens, promptTokens));
        row(t, "send lag p50 / max", pair(sendLagP50Ms, sendLagMaxMs));
        if (firstError != null) row(t, "first error", firstError);
        return t.toString();
    }

    private static String pair(double a, double b) {
        return a < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f / %.1f ms", a, b);
    }

    private static void row(StringBuilder t, String name, String value) {
        t.append(String.format(Locale.ROOT, "%-20s %s%n", name, value));
    }
}
