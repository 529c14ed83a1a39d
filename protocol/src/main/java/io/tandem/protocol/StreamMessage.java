package io.tandem.protocol;

import java.util.Arrays;

/** Worker to gateway, on the request's stream address. Exactly one terminal message ends a stream. */
public sealed interface StreamMessage {

    String requestId();

    /**
     * Newly generated tokens, in order. {@code seq} counts messages from 0 so a gap is detectable.
     * {@code logprobs} is null unless requested (one entry per token).
     */
    record Tokens(String requestId, long seq, int[] tokens, TokenLogprobs[] logprobs) implements StreamMessage {
        public Tokens(String requestId, long seq, int[] tokens) {
            this(requestId, seq, tokens, null);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tokens t && requestId.equals(t.requestId) && seq == t.seq
                    && Arrays.equals(tokens, t.tokens) && Arrays.equals(logprobs, t.logprobs);
        }

        @Override
        public int hashCode() {
            return requestId.hashCode() * 31 + Long.hashCode(seq);
        }
    }

    /**
     * The worker still holds the request — queued, prefilling or decoding — and its engine is making progress. Sent
     * when the stream would otherwise stay silent, so the gateway tells a request that waits from a worker that hangs.
     */
    record Alive(String requestId) implements StreamMessage {}

    /** Terminal: the sequence ended normally (or was cancelled). */
    record Finished(String requestId, FinishReason reason, Usage usage) implements StreamMessage {}

    /** Terminal: the worker could not complete the request. */
    record Failed(String requestId, ErrorCode code, String message) implements StreamMessage {}

    default boolean isTerminal() {
        return this instanceof Finished || this instanceof Failed;
    }
}
