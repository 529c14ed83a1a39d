package io.tandem.engine;

import io.tandem.protocol.SamplingParams;

/**
 * A tokenized request as the engine sees it.
 *
 * @param resumedTokens tokens the request already generated elsewhere (a migrated request), empty for a fresh one. The
 *                      engine computes their KV like the prompt's, counts them as generated (max tokens, penalties, the
 *                      seeded random stream, usage) and emits only what follows them
 */
public record EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling, int[] resumedTokens) {

    public EngineRequest {
        resumedTokens = resumedTokens == null ? new int[0] : resumedTokens;
    }

    public EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling) {
        this(requestId, promptTokens, sampling, new int[0]);
    }

    /** Whether this continues a request that generated tokens elsewhere. */
    public boolean isResumed() {
        return resumedTokens.length > 0;
    }

    /** What the model must have in its KV cache before the next token: the prompt, then the resumed tokens. */
    public int[] contextTokens() {
        if (resumedTokens.length == 0) return promptTokens;
        int[] all = java.util.Arrays.copyOf(promptTokens, promptTokens.length + resumedTokens.length);
        System.arraycopy(resumedTokens, 0, all, promptTokens.length, resumedTokens.length);
        return all;
    }
}
