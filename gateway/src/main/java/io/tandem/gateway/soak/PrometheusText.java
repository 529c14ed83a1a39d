package io.tandem.gateway.soak;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads samples out of a Prometheus text exposition ({@code /metrics}). */
public final class PrometheusText {
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final String text;

    public PrometheusText(String text) {
        this.text = text;
    }

    /**
     * The sum of the samples of {@code name} whose labels include every one of {@code labels}, or NaN when there is
     * no such sample.
     */
    public double sum(String name, Map<String, String> labels) {
        double total = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.find() || !m.group(1).equals(name)) continue;
            Map<String, String> have = labels(m.group(3));
            if (!have.entrySet().containsAll(labels.entrySet())) continue;
            total += Double.parseDouble(m.group(4));
            found = true;
        }
        return found ? total : Double.NaN;
    }

    public double sum(String name) {
        return sum(name, Map.of());
    }

    /** The samples of {@code name} by the value of its label {@code label} (summed over the other labels). */
    public Map<String, Double> byLabel(String name, String label) {
        Map<String, Double> out = new TreeMap<>();
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.find() || !m.group(1).equals(name)) continue;
            String value = labels(m.group(3)).get(label);
            if (value != null) out.merge(value, Double.parseDouble(m.group(4)), Double::sum);
        }
        return out;
    }

    private static Map<String, String> labels(String inside) {
        Map<String, String> labels = new TreeMap<>();
        if (inside == null) return labels;
        Matcher m = LABEL.matcher(inside);
        while (m.find()) labels.put(m.group(1), m.group(2));
        return labels;
    }
}
