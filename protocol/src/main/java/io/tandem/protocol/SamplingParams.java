package io.tandem.protocol;

import java.util.Objects;

/**
 * How a worker turns logits into tokens, already validated by the gateway.
 *
 * @param maxTokens        upper bound on generated tokens (>= 1)
 * @param temperature      0 means greedy
 * @param topP             nucleus mass in (0, 1]
 * @param topK             0 or negative means off
 * @param minP             0 means off
 * @param seed             null means "random", otherwise same seed, same output
 * @param presencePenalty  OpenAI presence penalty in [-2, 2]
 * @param frequencyPenalty OpenAI frequency penalty in [-2, 2]
 * @param stopTokenIds     extra token ids that end the sequence (not emitted)
 * @param ignoreEos        keep generating past end-of-generation tokens
 * @param logprobs         number of top logprobs to return per token, -1 for none
 */
public record SamplingParams(
        int maxTokens,
        float temperature,
        float topP,
        int topK,
        float minP,
        Long seed,
        float presencePenalty,
        float frequencyPenalty,
        int[] stopTokenIds,
        boolean ignoreEos,
        int logprobs) {

    public SamplingParams {
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1");
        stopTokenIds = stopTokenIds == null ? new int[0] : stopTokenIds.clone();
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], false, -1);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SamplingParams p && maxTokens == p.maxTokens && temperature == p.temperature
                && topP == p.topP && topK == p.topK && minP == p.minP && Objects.equals(seed, p.seed)
                && presencePenalty == p.presencePenalty && frequencyPenalty == p.frequencyPenalty
                && java.util.Arrays.equals(stopTokenIds, p.stopTokenIds) && ignoreEos == p.ignoreEos
                && logprobs == p.logprobs;
    }

    @Override
    public int hashCode() {
        return Objects.hash(maxTokens, temperature, topP, topK, seed, java.util.Arrays.hashCode(stopTokenIds));
    }
}
