package io.tandem.engine.sample;

import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;

import java.util.Arrays;

/**
 * When a sequence ends, checked after each generated token, in this order (as vLLM does):
 * an end-of-generation token (unless {@code ignoreEos}) or one of the request's stop token ids
 * ends it with {@link FinishReason#STOP} and is not emitted (nor counted: usage equals what the
 * client received, as in the simulated engine); reaching {@code maxTokens} generated tokens or
 * the context length ends it with {@link FinishReason#LENGTH} after emitting the token.
 */
public final class StopCondition {
    private final int[] endIds;
    private final int[] stopIds;
    private final int maxTokens;
    private final int maxGenerated;

    /**
     * @param endOfGenerationIds the tokenizer's end-of-generation ids (EOS, end-of-turn …)
     * @param promptTokens       the prompt's length
     * @param contextLength      the model's context, 0 or less for none
     */
    public StopCondition(SamplingParams params, int[] endOfGenerationIds, int promptTokens, int contextLength) {
        this.endIds = params.ignoreEos() || endOfGenerationIds == null ? new int[0] : sorted(endOfGenerationIds);
        this.stopIds = sorted(params.stopTokenIds());
        this.maxTokens = params.maxTokens();
        this.maxGenerated = contextLength > 0 ? Math.max(0, contextLength - promptTokens) : Integer.MAX_VALUE;
    }

    /**
     * The decision after {@code token}, the {@code generated}-th generated token (counting it).
     */
    public Decision check(int token, int generated) {
        if (Arrays.binarySearch(endIds, token) >= 0 || Arrays.binarySearch(stopIds, token) >= 0) return Decision.STOP;
        if (generated >= maxTokens || generated >= maxGenerated) return Decision.LENGTH;
        return Decision.CONTINUE;
    }

    /** Whether a token is emitted and whether the sequence ends after it. */
    public enum Decision {
        /** Emit the token and go on. */
        CONTINUE(null, true),
        /** End-of-generation or stop token: end without emitting it. */
        STOP(FinishReason.STOP, false),
        /** Emit the token, then end: max tokens or context reached. */
        LENGTH(FinishReason.LENGTH, true);

        private final FinishReason reason;
        private final boolean emit;

        Decision(FinishReason reason, boolean emit) {
            this.reason = reason;
            this.emit = emit;
        }

        /** Why the sequence ends, null to continue. */
        public FinishReason reason() {
            return reason;
        }

        public boolean emitToken() {
            return emit;
        }

        public boolean finished() {
            return reason != null;
        }
    }

    private static int[] sorted(int[] ids) {
        int[] s = ids.clone();
        Arrays.sort(s);
        return s;
    }
}
