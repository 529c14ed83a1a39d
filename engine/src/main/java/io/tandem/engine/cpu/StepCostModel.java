package io.tandem.engine.cpu;

/**
 * Predicts how long an engine step takes from the tokens it computes: {@code time = fixed + perToken · tokens}, a
 * line fitted online to the engine's own measured steps by least squares with exponential forgetting, so it follows
 * the model, the CPU and whatever else loads the machine. Pure: fed with measurements, no clock of its own.
 *
 * <p>The line needs steps of different sizes to be fitted. Until the observed sizes spread enough (or when the fit is
 * not physical: a negative slope or intercept) it falls back to a line through the origin, time proportional to
 * tokens, which overestimates the cost of more tokens than it saw when a step has a fixed cost — the safe side for a
 * latency budget.
 */
final class StepCostModel {
    /** Weight kept by older steps at each new one: about the last 20 steps count. */
    static final double DEFAULT_DECAY = 0.95;
    /** Relative spread of the step sizes, var(n) / mean(n)², below which the slope is not trusted. */
    private static final double MIN_RELATIVE_SPREAD = 0.01;

    private final double decay;
    private double w, sn, snn, st, snt; // weighted sums of 1, n, n², t, n·t (t in nanoseconds)

    StepCostModel(double decay) {
        if (!(decay > 0 && decay < 1)) throw new IllegalArgumentException("decay must be in (0, 1), got " + decay);
        this.decay = decay;
    }

    StepCostModel() {
        this(DEFAULT_DECAY);
    }

    /** A step of {@code tokens} tokens took {@code nanos}. */
    void observe(int tokens, long nanos) {
        if (tokens < 1 || nanos < 0) return;
        double n = tokens, t = nanos;
        w = w * decay + 1;
        sn = sn * decay + n;
        snn = snn * decay + n * n;
        st = st * decay + t;
        snt = snt * decay + n * t;
    }

    /** Whether any step was observed. */
    boolean calibrated() {
        return w > 0;
    }

    /** The fitted line: {@code [fixed nanos, nanos per token]}; both 0 before the first observation. */
    double[] line() {
        if (!calibrated()) return new double[] {0, 0};
        double meanN = sn / w, meanT = st / w;
        double varN = snn / w - meanN * meanN;
        if (varN > MIN_RELATIVE_SPREAD * meanN * meanN) {
            double slope = (snt / w - meanN * meanT) / varN;
            double intercept = meanT - slope * meanN;
            if (slope > 0 && intercept >= 0) return new double[] {intercept, slope};
        }
        return new double[] {0, st / sn};
    }

    /** The predicted time of a step of {@code tokens} tokens, 0 before the first observation. */
    double predictNanos(int tokens) {
        double[] l = line();
        return l[0] + l[1] * tokens;
    }

    /** The most tokens a step may compute to be predicted within {@code nanos}: 0 if none, -1 before any observation. */
    int tokensWithin(long nanos) {
        if (!calibrated()) return -1;
        double[] l = line();
        double n = (nanos - l[0]) / l[1] + 1e-9; // a step predicted right at the target fits
        return n <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, Math.floor(n));
    }
}
