package io.tandem.gateway.planner;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Learns {@link StepModel} from the decode step times workers report at their batch sizes: a least-squares line over
 * the reports of the last {@code window} (at most {@link #MAX_SAMPLES}), as batches come and go with the load. When
 * the batches seen span less than a factor {@link #MIN_BATCH_SPREAD}, or the line does not fit (r² below
 * {@link #MIN_R2}, a slope or intercept below 0), it is the reports' mean {@link StepModel.OperatingPoint}. A steady
 * load gives one batch size (the step reported is a mean over the last steps, not the step at the batch of the
 * instant), so the line comes from load that changes. Pure: the caller passes the time. Not thread-safe.
 */
public final class DecodeStepFit {
    static final int MAX_SAMPLES = 1024;
    /** A line is fitted only when the largest batch reported is at least this many times the smallest. */
    static final int MIN_BATCH_SPREAD = 2;
    /** ... and when the line explains at least this share of the step times' variance (r²). */
    static final double MIN_R2 = 0.5;

    private record Sample(long atMillis, int batch, double stepMs) {}

    private final long windowMillis;
    private final Deque<Sample> samples = new ArrayDeque<>();

    public DecodeStepFit(long windowMillis) {
        this.windowMillis = windowMillis;
    }

    /** A worker reported a decode step of {@code stepMs} at a batch of {@code batch} streams. */
    public void add(long nowMillis, int batch, double stepMs) {
        if (batch < 1 || !(stepMs > 0) || Double.isInfinite(stepMs)) return;
        samples.addLast(new Sample(nowMillis, batch, stepMs));
        if (samples.size() > MAX_SAMPLES) samples.removeFirst();
    }

    public StepModel model(long nowMillis) {
        while (!samples.isEmpty() && samples.peekFirst().atMillis() < nowMillis - windowMillis) samples.removeFirst();
        int n = samples.size();
        if (n == 0) return StepModel.UNMEASURED;
        double sb = 0, st = 0;
        int minB = Integer.MAX_VALUE, maxB = 0;
        for (Sample s : samples) {
            sb += s.batch();
            st += s.stepMs();
            minB = Math.min(minB, s.batch());
            maxB = Math.max(maxB, s.batch());
        }
        double meanB = sb / n, meanT = st / n, sbb = 0, sbt = 0, stt = 0;
        for (Sample s : samples) {
            sbb += (s.batch() - meanB) * (s.batch() - meanB);
            sbt += (s.batch() - meanB) * (s.stepMs() - meanT);
            stt += (s.stepMs() - meanT) * (s.stepMs() - meanT);
        }
        StepModel point = new StepModel.OperatingPoint(meanB, meanT, n, maxB);
        if (maxB < MIN_BATCH_SPREAD * minB || stt == 0) return point;
        double slope = sbt / sbb, intercept = meanT - slope * meanB, r2 = sbt * sbt / (sbb * stt);
        if (slope <= 0 || intercept < 0 || r2 < MIN_R2) return point;
        return new StepModel.Linear(intercept, slope, n, maxB);
    }
}
