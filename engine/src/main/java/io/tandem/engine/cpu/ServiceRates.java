package io.tandem.engine.cpu;

/**
 * The engine's measured service rates, learnt online from its own steps and reported to the gateways with its load
 * (the gateway predicts time to first token from them):
 * <ul>
 *   <li><b>decode step time</b>: an exponentially weighted mean of the steps that computed only decodes — the time
 *       every running stream waits per token at the current batch, and the fixed part of any step (a forward pass
 *       over few tokens streams every weight once, whatever it computes);</li>
 *   <li><b>prefill rate</b>: prompt tokens per second of the steps that computed prompt tokens, that fixed part (the
 *       decode step time) taken off first; a ratio of weighted sums (tokens over time) rather than a mean of ratios,
 *       so a few tiny chunks do not dominate.</li>
 * </ul>
 * The first {@value #WARMUP_STEPS} steps are not learnt from: a fresh engine's first passes run while the JIT compiles
 * its kernels, ten times slower and more, and prefill steps are rare enough that such a start would skew the rate for
 * many requests. Pure: fed with measurements, no clock of its own.
 */
final class ServiceRates {
    /** Weight kept by older decode steps at each new one: about the last 20 count. */
    static final double DECAY = 0.95;
    /** Weight kept by older prefill steps (one or a few per request): about the last 5 count. */
    static final double PREFILL_DECAY = 0.8;
    static final int WARMUP_STEPS = 4;

    private long steps;
    private double decodeWeight, decodeNanos;
    private double prefillTokens, prefillNanos;

    /** A step that computed {@code promptTokens} prompt tokens beside {@code decodes} decodes took {@code nanos}. */
    void observe(int promptTokens, int decodes, long nanos) {
        if (nanos <= 0 || promptTokens < 0 || decodes < 0 || promptTokens + decodes == 0) return;
        if (++steps <= WARMUP_STEPS) return;
        if (promptTokens == 0) {
            decodeWeight = decodeWeight * DECAY + 1;
            decodeNanos = decodeNanos * DECAY + nanos;
            return;
        }
        double spent = Math.max(nanos * 0.1, nanos - decodeStepNanos());
        prefillTokens = prefillTokens * PREFILL_DECAY + promptTokens;
        prefillNanos = prefillNanos * PREFILL_DECAY + spent;
    }

    /** Mean time of a decode-only step, 0 before one was seen. */
    double decodeStepNanos() {
        return decodeWeight == 0 ? 0 : decodeNanos / decodeWeight;
    }

    /** Prompt tokens per second, 0 before a prefill was seen. */
    double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : prefillTokens * 1e9 / prefillNanos;
    }
}
