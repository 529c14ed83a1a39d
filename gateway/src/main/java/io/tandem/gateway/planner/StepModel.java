package io.tandem.gateway.planner;

/**
 * A decode worker's step time as a function of its batch: {@code step(b) = fixedMs + perSequenceMs × b}. Every stream
 * in the batch gets one token per step, so {@code step(b)} is the time per output token (TPOT) its streams see.
 *
 * @param fixedMs       the part of a step every batch pays (weights read, launch)
 * @param perSequenceMs what each more stream adds
 * @param samples       how many (batch, step time) reports it was made from
 * @param method        how it was made: {@code linear fit} (least squares over several batch sizes), {@code flat} (step
 *                      time did not grow with the batch), {@code proportional} (one batch size seen: assumed
 *                      {@code step ∝ batch}, which over-estimates larger batches) or {@code unmeasured}
 */
public record StepModel(double fixedMs, double perSequenceMs, int samples, String method) {
    public static final StepModel UNMEASURED = new StepModel(0, 0, 0, "unmeasured");

    public boolean measured() {
        return samples > 0 && fixedMs + perSequenceMs > 0;
    }

    /** The modelled step time at a batch of {@code batch} streams. */
    public double stepMillis(int batch) {
        return fixedMs + perSequenceMs * batch;
    }

    /**
     * The largest batch whose step stays within {@code tpotMs}, at most {@code cap}; 1 when even one stream's step is
     * slower (the SLO cannot be met by adding workers).
     */
    public int maxBatchWithin(double tpotMs, int cap) {
        if (perSequenceMs <= 0) return fixedMs <= tpotMs ? cap : 1;
        double b = Math.floor((tpotMs - fixedMs) / perSequenceMs + 1e-9); // a fitted line is exact only to rounding
        return (int) Math.max(1, Math.min(cap, b));
    }
}
