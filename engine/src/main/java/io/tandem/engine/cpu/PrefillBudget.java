package io.tandem.engine.cpu;

/**
 * Decode-first, stall-free batching (Sarathi-Serve): how many prompt tokens a step may compute beside its decodes.
 * A step that holds decodes is every running stream's inter-token gap, so the prompt tokens added to it are limited to
 * what the {@link StepCostModel} predicts still fits in the latency target; a step without decodes makes nobody wait
 * for a token and keeps the whole {@code max_num_batched_tokens} (time to first token). Some prompt tokens always go
 * in ({@link #MIN_PREFILL_TOKENS}), so prompts progress even when the decodes alone exceed the target.
 *
 * <p>Pure: the engine feeds the cost model with its measured steps.
 */
final class PrefillBudget {
    /** Prompt tokens a step with decodes may always add (when the token budget leaves room). */
    static final int MIN_PREFILL_TOKENS = 16;

    private final int maxNumBatchedTokens;
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
        this.targetNanos = targetNanos;
        this.cost = cost;
    }

    /** No latency limit: prompts take whatever the decodes leave of {@code maxNumBatchedTokens}. */
    static PrefillBudget unlimited(int maxNumBatchedTokens) {
        return new PrefillBudget(maxNumBatchedTokens, 0, new StepCostModel());
    }

    int maxNumBatchedTokens() {
        return maxNumBatchedTokens;
    }

    /** The prompt tokens a step holding {@code decodes} decodes may add. */
    int prefillTokens(int decodes) {
        int room = Math.max(0, maxNumBatchedTokens - decodes);
        if (decodes == 0 || targetNanos == 0) return room;
        int floor = Math.min(MIN_PREFILL_TOKENS, room);
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
