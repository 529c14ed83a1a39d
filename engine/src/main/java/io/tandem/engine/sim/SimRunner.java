package io.tandem.engine.sim;

import io.tandem.engine.cpu.ModelRunner;
import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.LayerListener;
import io.tandem.engine.forward.SequenceSpan;

import java.util.function.BooleanSupplier;

/**
 * The simulated model step: takes the time {@link SimConfig} models for the batch, on the {@link SimClock}, then
 * samples from the {@link SimTokenModel}. A span of one token after position 0 counts as a decode (its context is
 * attended to), any other span as prefill tokens. Holds no KV data: the blocks the scheduler hands out are only
 * accounting.
 */
final class SimRunner implements ModelRunner {
    private final SimConfig config;
    private final SimClock clock;
    private final BooleanSupplier closed;
    private final int contextLength;
    private final StepOutput output;
    /** When the previous step ends in modelled time: steps follow each other at the modelled pace. */
    private long deadline;

    SimRunner(SimConfig config, SimClock clock, BooleanSupplier closed, int contextLength, SimTokenModel model) {
        this.config = config;
        this.clock = clock;
        this.closed = closed;
        this.contextLength = contextLength;
        SimSampler sampler = new SimSampler(model);
        this.output = (span, context, sampling) -> sampler.sample(context, sampling);
        this.deadline = clock.nanoTime();
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public StepOutput forward(Batch batch, LayerListener listener) {
        long prefillTokens = 0, decodeContext = 0;
        int decoding = 0;
        for (SequenceSpan s : batch.spans()) {
            if (s.length() == 1 && s.startPosition() > 0) {
                decoding++;
                decodeContext += s.endPosition();
            } else {
                prefillTokens += s.length();
            }
        }
        long nanos = config.stepNanos((int) prefillTokens, decoding, decodeContext);
        if (nanos > 0) {
            deadline = Math.max(deadline, clock.nanoTime()) + nanos;
            clock.sleepUntil(deadline, closed); // on close the step ends early; the engine then fails what it holds
        }
        return output;
    }
}
