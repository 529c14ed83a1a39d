package io.tandem.engine.cpu;

/**
 * The engine's measured service rates, learnt online from its own steps and reported to the gateways with its load
 * (the gateway predicts time to first token from them):
 * <ul>
 *   <li><b>decode step time</b>: an exponentially weighted mean of the steps that computed only decodes — the time
 *       every running stream waits per token at the current batch, and the fixed part of a step that also prefills;</li>
 *   <li><b>prefill rate</b>: prompt tokens per second of the steps that computed prompt tokens, the decode part of a
 *       mixed step (the decode step time above) taken off first; a ratio of weighted sums (tokens over time) rather
 *       than a mean of ratios, so a few tiny chunks do not dominate.</li>
 * </ul>
 * Pure: fed with measurements, no clock of its own.
 */
final class ServiceRates {
    /** Weight kept by older steps at each new one: about the last 20 steps count. */
    static final double DECAY = 0.95;

    private double decodeWeight, decodeNanos;
    private double prefillTokens, prefillNanos;

    /** A step that computed {@code promptTokens} prompt tokens beside {@code decodes} decodes took {@code nanos}. */
    void observe(int promptTokens, int decodes, long nanos) {
        if (nanos <= 0 || promptTokens < 0 || decodes < 0 || promptTokens + decodes == 0) return;
        if (promptTokens == 0) {
            decodeWeight = decodeWeight * DECAY + 1;
            decodeNanos = decodeNanos * DECAY + nanos;
            return;
        }
        double spent = decodes == 0 ? nanos : Math.max(nanos * 0.1, nanos - decodeStepNanos());
        prefillTokens = prefillTokens * DECAY + promptTokens;
        prefillNanos = prefillNanos * DECAY + spent;
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
