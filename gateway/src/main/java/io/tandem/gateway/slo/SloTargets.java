package io.tandem.gateway.slo;

/**
 * A request's latency objectives, in milliseconds; 0 means "none" for that objective.
 *
 * @param ttftMs time to first token
 * @param tpotMs mean time per output token after the first
 */
public record SloTargets(double ttftMs, double tpotMs) {
    public static final SloTargets NONE = new SloTargets(0, 0);

    public SloTargets {
        if (!(ttftMs >= 0) || !(tpotMs >= 0) || Double.isInfinite(ttftMs) || Double.isInfinite(tpotMs)) {
            throw new IllegalArgumentException("SLOs must be finite and >= 0 ms, got ttft " + ttftMs + ", tpot " + tpotMs);
        }
    }

    public boolean hasTtft() {
        return ttftMs > 0;
    }

    public boolean hasTpot() {
        return tpotMs > 0;
    }

    public boolean any() {
        return hasTtft() || hasTpot();
    }

    /** Whether a finished request met both objectives it has: TTFT and the mean TPOT (NaN with one token: met). */
    public boolean met(double actualTtftMs, double meanTpotMs) {
        return (!hasTtft() || actualTtftMs <= ttftMs) && (!hasTpot() || Double.isNaN(meanTpotMs) || meanTpotMs <= tpotMs);
    }
}
