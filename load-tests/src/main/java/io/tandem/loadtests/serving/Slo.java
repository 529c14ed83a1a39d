package io.tandem.loadtests.serving;

/**
 * A latency objective per request, as vLLM's {@code benchmark_serving --goodput} and DistServe define goodput: a
 * request meets it when it completed with TTFT at most {@code ttftMs} and TPOT (mean time per output token after the
 * first) at most {@code tpotMs}. A level's goodput is the requests that met it per second of the level's window.
 */
public record Slo(double ttftMs, double tpotMs) {
    /**
     * A chat client's default: the first token within a second, then at least 10 tokens/s, faster than people read.
     */
    public static final Slo CHAT = new Slo(1000, 100);

    public Slo {
        if (!(ttftMs > 0) || !(tpotMs > 0)) {
            throw new IllegalArgumentException("SLO limits must be > 0, got " + ttftMs + " / " + tpotMs);
        }
    }

    public boolean met(RequestTiming t) {
        return t.ttftMs() <= ttftMs && t.tpotMs() <= tpotMs;
    }

    /** Requests of the level that met this SLO, per second of its window; NaN when the level kept no timings. */
    public double goodput(LevelResult level) {
        return level.windowSeconds() > 0 ? met(level) / level.windowSeconds() : Double.NaN;
    }

    /** The share of the level's requests (failed and cut ones included) that met this SLO; NaN without timings. */
    public double attainment(LevelResult level) {
        return level.requests() > 0 ? met(level) / level.requests() : Double.NaN;
    }

    /** How many of the level's requests met this SLO; NaN when the level kept no timings. */
    private double met(LevelResult level) {
        return level.timings() == null ? Double.NaN : level.timings().stream().filter(this::met).count();
    }
}
