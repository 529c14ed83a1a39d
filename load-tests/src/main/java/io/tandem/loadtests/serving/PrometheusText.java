package io.tandem.loadtests.serving;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The samples of a Prometheus text exposition, and quantiles of a histogram over the window between two scrapes (the
 * difference of its cumulative bucket counts, interpolated within a bucket as PromQL's {@code histogram_quantile}).
 */
public record PrometheusText(List<Sample> samples) {

    public record Sample(String name, Map<String, String> labels, double value) {}

    public static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) continue;
            int brace = line.indexOf('{');
            int space = brace >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
            if (space < 0) continue;
            String name = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
            Map<String, String> labels = brace >= 0 ? labels(line.substring(brace + 1, line.lastIndexOf('}'))) : Map.of();
            String[] rest = line.substring(space + 1).strip().split("\\s+");
            try {
                samples.add(new Sample(name, labels, Double.parseDouble(rest[0])));
            } catch (NumberFormatException e) {
                // not a sample we read
            }
        }
        return new PrometheusText(List.copyOf(samples));
    }

    private static Map<String, String> labels(String body) {
        Map<String, String> labels = new LinkedHashMap<>();
        int i = 0;
        while (i < body.length()) {
            int eq = body.indexOf('=', i);
            if (eq < 0) break;
            String key = body.substring(i, eq).strip();
            int open = body.indexOf('"', eq);
            StringBuilder value = new StringBuilder();
            int j = open + 1;
            for (; j < body.length() && body.charAt(j) != '"'; j++) {
                if (body.charAt(j) == '\\' && j + 1 < body.length()) j++;
                value.append(body.charAt(j));
            }
            labels.put(key, value.toString());
            i = body.indexOf(',', j);
            if (i < 0) break;
            i++;
        }
        return labels;
    }

    /** The value of the first sample named {@code name} whose labels include {@code match}, or NaN. */
    public double value(String name, Map<String, String> match) {
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().entrySet().containsAll(match.entrySet())) return s.value();
        }
        return Double.NaN;
    }

    /** Cumulative bucket counts of histogram {@code name} (its {@code _bucket} series) with the labels {@code match}. */
    TreeMap<Double, Double> buckets(String name, Map<String, String> match) {
        TreeMap<Double, Double> buckets = new TreeMap<>();
        for (Sample s : samples) {
            if (!s.name().equals(name + "_bucket") || !s.labels().entrySet().containsAll(match.entrySet())) continue;
            String le = s.labels().get("le");
            buckets.merge(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), s.value(), Double::sum);
        }
        return buckets;
    }

    /**
     * The {@code q} quantile of what histogram {@code name} recorded between {@code before} and {@code after}, in the
     * histogram's unit; NaN when nothing was recorded. Within a bucket, linear (as PromQL); in the +Inf bucket, the
     * largest finite bound.
     */
    public static double windowQuantile(PrometheusText before, PrometheusText after, String name, Map<String, String> match, double q) {
        TreeMap<Double, Double> b = before == null ? new TreeMap<>() : before.buckets(name, match);
        TreeMap<Double, Double> a = after.buckets(name, match);
        if (a.isEmpty()) return Double.NaN;
        double total = a.lastEntry().getValue() - b.getOrDefault(a.lastKey(), 0.0);
        if (total <= 0) return Double.NaN;
        double rank = q * total, lowerBound = 0, lowerCount = 0;
        for (Map.Entry<Double, Double> e : a.entrySet()) {
            double count = e.getValue() - b.getOrDefault(e.getKey(), 0.0);
            if (count >= rank) {
                if (e.getKey().isInfinite()) return lowerBound;
                double inBucket = count - lowerCount;
                return inBucket <= 0 ? e.getKey() : lowerBound + (e.getKey() - lowerBound) * (rank - lowerCount) / inBucket;
            }
            lowerBound = e.getKey();
            lowerCount = count;
        }
        return lowerBound;
    }

    /** How many observations histogram {@code name} recorded between the scrapes. */
    public static double windowCount(PrometheusText before, PrometheusText after, String name, Map<String, String> match) {
        double b = before == null ? 0 : before.value(name + "_count", match);
        return after.value(name + "_count", match) - (Double.isNaN(b) ? 0 : b);
    }
}
