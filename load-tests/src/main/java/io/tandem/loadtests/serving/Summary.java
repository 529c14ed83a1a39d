package io.tandem.loadtests.serving;

import io.vertx.core.json.JsonObject;

import java.util.Arrays;

/** Percentiles of a sample in milliseconds (nearest rank), or NaN for an empty sample. */
public record Summary(int count, double p50, double p99, double mean, double max) {

    public static Summary ofNanos(long[] nanos) {
        if (nanos.length == 0) return new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (long v : sorted) sum += v;
        return new Summary(sorted.length, ms(rank(sorted, 0.50)), ms(rank(sorted, 0.99)), ms(sum / sorted.length),
                ms(sorted[sorted.length - 1]));
    }

    /** The smallest value with at least {@code q} of the sample at or below it. */
    static long rank(long[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.clamp(i, 0, sorted.length - 1)];
    }

    private static double ms(double nanos) {
        return nanos / 1e6;
    }

    public JsonObject toJson() {
        return new JsonObject().put("count", count).put("p50", p50).put("p99", p99).put("mean", mean).put("max", max);
    }

    public static Summary fromJson(JsonObject j) {
        return new Summary(j.getInteger("count"), num(j, "p50"), num(j, "p99"), num(j, "mean"), num(j, "max"));
    }

    static double num(JsonObject j, String key) {
        Object v = j.getValue(key);
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
