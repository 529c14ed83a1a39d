package io.tandem.gateway.planner;

/**
 * A decode worker's step time as a function of its batch. Every stream in the batch gets one token per step, so
 * {@code step(b)} is the time per output token (TPOT) its streams see, and {@code b / step(b)} the worker's output
 * tokens per second. Nothing says how batches much larger than those reported behave: a model is trusted up to
 * {@link #MAX_EXTRAPOLATION} times the largest batch seen.
 */
public sealed interface StepModel {
    int MAX_EXTRAPOLATION = 2;

    StepModel UNMEASURED = new Unmeasured();

    /** The modelled step time at a batch of {@code batch} streams. */
    double stepMillis(int batch);

    /**
     * The largest batch whose step stays within {@code tpotMs}, at most {@code cap}; 1 when even one stream's step is
     * slower (the SLO cannot be met by adding workers).
     */
    int maxBatchWithin(double tpotMs, int cap);

    /** How many (batch, step time) reports it was made from. */
    int samples();

    default boolean measured() {
        return samples() > 0;
    }

    /** No decode step reported yet. */
    record Unmeasured() implements StepModel {
        @Override
        public double stepMillis(int batch) {
            return Double.NaN;
        }

        @Override
        public int maxBatchWithin(double tpotMs, int cap) {
            return 0;
        }

        @Override
        public int samples() {
            return 0;
        }
    }

    /**
     * {@code step(b) = fixedMs + perSequenceMs × b}, fitted over batches that span a factor 2 or more.
     *
     * @param largestBatch the largest batch reported
     */
    record Linear(double fixedMs, double perSequenceMs, int samples, int largestBatch) implements StepModel {
        @Override
        public double stepMillis(int batch) {
            return fixedMs + perSequenceMs * batch;
        }

        @Override
        public int maxBatchWithin(double tpotMs, int cap) {
            double b = Math.floor((tpotMs - fixedMs) / perSequenceMs + 1e-9); // a fitted line is exact only to rounding
            return (int) Math.max(1, Math.min(Math.min(cap, MAX_EXTRAPOLATION * largestBatch), b));
        }
    }

    /**
     * One operating point: the workers reported steps of about {@code stepMs} at about {@code batch} streams (a steady
     * load gives nothing else). Below it the step is taken as proportional to the batch, above it as flat, up to the
     * trust limit: when the reported step is within the TPOT target the worker is planned at up to twice its largest
     * batch (a scale-down that makes batches grow then shows how the step grows, and the line is fitted); when it is
     * slower, at the batch that brings the step down to the target.
     *
     * @param batch        the mean reported batch
     * @param stepMs       the mean reported step time
     * @param largestBatch the largest batch reported
     */
    record OperatingPoint(double batch, double stepMs, int samples, int largestBatch) implements StepModel {
        @Override
        public double stepMillis(int b) {
            return b < batch ? stepMs * b / batch : stepMs;
        }

        @Override
        public int maxBatchWithin(double tpotMs, int cap) {
            if (stepMs <= tpotMs) return Math.max(1, Math.min(cap, MAX_EXTRAPOLATION * largestBatch));
            return (int) Math.max(1, Math.min(cap, Math.floor(batch * tpotMs / stepMs + 1e-9)));
        }
    }
}
