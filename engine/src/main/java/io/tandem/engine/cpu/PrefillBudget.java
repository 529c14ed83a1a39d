package io.tandem.engine.cpu;

/**
 * Decode-first, stall-free batching (Sarathi-Serve): how many prompt tokens a step may compute beside its decodes.
 * A step that holds decodes is every running stream's inter-token gap, so the prompt tokens added to it are limited to
 * what the {@link StepCostModel} predicts still fits in the latency target; a step without decodes makes nobody wait
 * for a token and keeps the whole {@code max_num_batched_tokens} (time to first token). An eighth of
 * {@code max_num_batched_tokens} always goes to prompts (64 of 512): a closed loop of 256-token prompts and 128-token
 * answers needs two prompt tokens per decode, and when the decodes alone nearly fill the target a smaller floor starves
 * the prompts — streams then wait for their prefill instead of decoding, and time to first token grows by seconds.
 *
 * <p>Pure: the engine feeds the cost model with its measured steps.
 */
final class PrefillBudget {
    /** The share of {@code max_num_batched_tokens} a step with decodes may always give to prompts: 1 / this. */
    static final int MIN_PREFILL_SHARE = 8;

    private final int maxNumBatchedTokens;
    private final int minPrefillTokens;
    private final long targetNanos;
    private final StepCostModel cost;

    /**
     * @param maxNumBatchedTokens tokens computed per step at most
     * @param targetNanos         longest predicted time of a step holding decodes; 0 turns the limit off (decodes and
     *                            prompts then share {@code maxNumBatchedTokens}, vLLM's chunked prefill)
     * @param cost                the measured cost of steps
     */
    PrefillBudget(int maxNumBatchedTokens, long targetNanos, StepCostModel cost) {
        if (maxNumBatchedTokens < 1) throw new IllegalArgumentException("token budget must be >= 1, got " + maxNumBatchedTokens);
        if (targetNanos < 0) throw new IllegalArgumentException("step latency target must be >= 0, got " + targetNanos);
        this.maxNumBatchedTokens = maxNumBatchedTokens;
        this.minPrefillTokens = Math.max(1, maxNumBatchedTokens / MIN_PREFILL_SHARE);
        this.targetNanos = targetNanos;
        this.cost = cost;
    }

    /** No latency limit: prompts take whatever the decodes leave of {@code maxNumBatchedTokens}. */
    static PrefillBudget unlimited(int maxNumBatchedTokens) {
        return new PrefillBudget(maxNumBatchedTokens, 0, new StepCostModel());
    }

    /** Prompt tokens a step with decodes may always add, room permitting. */
    int minPrefillTokens() {
        return minPrefillTokens;
    }

    int maxNumBatchedTokens() {
        return maxNumBatchedTokens;
    }

    /** The prompt tokens a step holding {@code decodes} decodes may add. */
    int prefillTokens(int decodes) {
        int room = Math.max(0, maxNumBatchedTokens - decodes);
        if (decodes == 0 || targetNanos == 0) return room;
        int floor = Math.min(minPrefillTokens, room);
        int fits = cost.tokensWithin(targetNanos); // -1 before the first measured step: only the floor
        return Math.clamp((long) fits - decodes, floor, room);
    }

    /** Records a computed step (the engine calls it after every forward pass and its sampling). */
    void observe(int tokens, long nanos) {
        cost.observe(tokens, nanos);
    }

    StepCostModel cost() {
        return cost;
    }
}
