package io.tandem.protocol;

import java.util.Arrays;

/** Log-probability of a sampled token and the top alternatives at that position (equality as {@link Float#compare}, consistent with hashCode). */
public record TokenLogprobs(int token, float logprob, int[] topTokens, float[] topLogprobs) {
    @Override
    public boolean equals(Object o) {
        return o instanceof TokenLogprobs t && token == t.token && Float.compare(logprob, t.logprob) == 0
                && Arrays.equals(topTokens, t.topTokens) && Arrays.equals(topLogprobs, t.topLogprobs);
    }

    @Override
    public int hashCode() {
        return token * 31 + Float.hashCode(logprob);
    }
}
