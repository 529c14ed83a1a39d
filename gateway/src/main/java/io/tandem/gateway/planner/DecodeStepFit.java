package io.tandem.gateway.planner;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Learns {@link StepModel} from the decode step times workers report at their batch sizes: a least-squares line over
 * the reports of the last {@code window} (at most {@link #MAX_SAMPLES}), as batches come and go with the load. Pure:
 * the caller passes the time. Not thread-safe.
 */
public final class DecodeStepFit {
    static final int MAX_SAMPLES = 1024;

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
        for (Sample s : samples) {
            sb += s.batch();
            st += s.stepMs();
        }
        double meanB = sb / n, meanT = st / n, sbb = 0, sbt = 0;
        for (Sample s : samples) {
            sbb += (s.batch() - meanB) * (s.batch() - meanB);
            sbt += (s.batch() - meanB) * (s.stepMs() - meanT);
        }
        if (sbb == 0) return new StepModel(0, meanT / meanB, n, "proportional"); // one batch size: no slope to see
        double slope = sbt / sbb, intercept = meanT - slope * meanB;
        if (slope <= 0) return new StepModel(meanT, 0, n, "flat");
        if (intercept < 0) return new StepModel(0, meanT / meanB, n, "proportional"); // steeper than linear: stay safe
        return new StepModel(intercept, slope, n, "linear fit");
    }
}
