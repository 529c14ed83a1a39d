package io.tandem.engine.cpu;

/**
 * Told of every engine step on the engine thread, after its forward pass, sampling and delivery: what the step held
 * and how long it took. A decode-only step's time is the running streams' token gap; a step with prompt tokens shows
 * what a prefill chunk costs the streams decoding beside it. Implementations must be quick and must not block.
 */
@FunctionalInterface
public interface StepObserver {
    StepObserver NONE = (prefillTokens, decodes, nanos) -> { };

    /**
     * @param prefillTokens prompt tokens computed in the step (0 for a decode-only step)
     * @param decodes       sequences that decoded one token in the step
     * @param nanos         the step's time: forward pass, sampling and delivery
     */
    void stepped(int prefillTokens, int decodes, long nanos);
}
