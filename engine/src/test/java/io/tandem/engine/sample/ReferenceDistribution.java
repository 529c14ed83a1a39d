package io.tandem.engine.sample;

import io.tandem.protocol.SamplingParams;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The distribution a sampler must draw from, computed the slow, obvious way (full sort, every
 * filter spelled out), to check {@link Sampler} against.
 */
final class ReferenceDistribution {
    private ReferenceDistribution() {}

    /** Probability of each token after penalties, temperature, min-p, top-k and top-p. */
    static double[] of(float[] raw, SamplingParams p, int[] generated) {
        int v = raw.length;
        double[] x = new double[v];
        for (int i = 0; i < v; i++) x[i] = raw[i];
        int[] counts = new int[v];
        for (int t : generated) counts[t]++;
        for (int i = 0; i < v; i++) x[i] -= (counts[i] > 0 ? p.presencePenalty() : 0) + p.frequencyPenalty() * counts[i];
        double[] prob = softmax(x, p.temperature());
        double pmax = Arrays.stream(prob).max().orElseThrow();
        boolean[] keep = new boolean[v];
        for (int i = 0; i < v; i++) keep[i] = prob[i] >= p.minP() * pmax;
        Integer[] rank = IntStream.range(0, v).boxed().sorted(Comparator.<Integer>comparingDouble(i -> -x[i]).thenComparing(i -> i))
                .toArray(Integer[]::new);
        if (p.topK() > 0) for (int r = p.topK(); r < v; r++) keep[rank[r]] = false;
        double total = 0;
        for (int i = 0; i < v; i++) if (keep[i]) total += prob[i];
        if (p.topP() < 1) {
            double cum = 0;
            boolean reached = false;
            for (Integer i : rank) {
                if (!keep[i]) continue;
                if (reached) keep[i] = false;
                cum += prob[i] / total;
                if (cum >= p.topP()) reached = true;
            }
        }
        double[] out = new double[v];
        double kept = 0;
        for (int i = 0; i < v; i++) if (keep[i]) kept += prob[i];
        for (int i = 0; i < v; i++) out[i] = keep[i] ? prob[i] / kept : 0;
        return out;
    }

    static double[] softmax(double[] x, double temperature) {
        double max = Arrays.stream(x).max().orElseThrow();
        double[] e = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) sum += e[i] = Math.exp((x[i] - max) / temperature);
        for (int i = 0; i < x.length; i++) e[i] /= sum;
        return e;
    }

    /**
     * Pearson's chi-square of observed counts against expected probabilities, with bins whose
     * expectation is under 5 merged into one. Returns {statistic, degrees of freedom}.
     */
    static double[] chiSquare(int[] observed, double[] expected, int n) {
        double stat = 0, smallExp = 0, smallObs = 0;
        int bins = 0;
        for (int i = 0; i < observed.length; i++) {
            double e = expected[i] * n;
            if (e == 0) {
                if (observed[i] != 0) return new double[] {Double.POSITIVE_INFINITY, 1};
                continue;
            }
            if (e < 5) {
                smallExp += e;
                smallObs += observed[i];
                continue;
            }
            stat += (observed[i] - e) * (observed[i] - e) / e;
            bins++;
        }
        if (smallExp > 0) {
            stat += (smallObs - smallExp) * (smallObs - smallExp) / Math.max(smallExp, 1e-9);
            bins++;
        }
        return new double[] {stat, Math.max(1, bins - 1)};
    }

    /**
     * A chi-square critical value far in the tail (about p = 1e-6), from the Wilson–Hilferty
     * approximation: deterministic seeds make a test pass or fail every time, and this bound
     * keeps a correct sampler from ever failing while a wrong distribution still fails by miles.
     */
    static double critical(double df) {
        double z = 4.75;
        double a = 2.0 / (9 * df);
        return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
    }
}
