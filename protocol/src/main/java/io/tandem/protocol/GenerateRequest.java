package io.tandem.protocol;

import java.util.Arrays;
import java.util.Objects;

/**
 * Gateway to worker: generate tokens for a tokenized prompt. Sent to
 * {@link Addresses#generate(String)} of the chosen worker; the worker replies at once with an
 * accept (empty body) or fails the reply with a {@link ErrorCode} code, then streams
 * {@link StreamMessage}s to {@code streamAddress}, never more tokens than the credits granted
 * ({@code initialCredits} plus every {@link ControlMessage.Credit} since).
 *
 * @param requestId      unique id, also the key of control messages
 * @param model          the served model name the gateway resolved
 * @param promptTokens   prompt token ids
 * @param sampling       sampling parameters
 * @param streamAddress  the per-request event-bus address the gateway consumes
 * @param initialCredits how many tokens the worker may send before waiting for credit
 * @param resumedTokens  tokens this request already generated on a worker that went away (a migration), in order;
 *                       empty for a fresh request. The worker continues after them as if it had generated them itself:
 *                       they count towards {@code maxTokens}, the penalties and the seeded random stream, and the
 *                       worker sends only the tokens that follow
 * @param keepaliveMillis while the worker owes tokens (it has credit) and sent nothing for this long, it sends a
 *                        {@link StreamMessage.Alive} if its engine is making progress; 0 for none
 */
public record GenerateRequest(
        String requestId,
        String model,
        int[] promptTokens,
        SamplingParams sampling,
        String streamAddress,
        int initialCredits,
        int[] resumedTokens,
        int keepaliveMillis) {

    public GenerateRequest(String requestId, String model, int[] promptTokens, SamplingParams sampling,
                           String streamAddress, int initialCredits) {
        this(requestId, model, promptTokens, sampling, streamAddress, initialCredits, new int[0], 0);
    }

    public GenerateRequest {
        resumedTokens = resumedTokens == null ? new int[0] : resumedTokens;
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(promptTokens, "promptTokens");
        Objects.requireNonNull(sampling, "sampling");
        Objects.requireNonNull(streamAddress, "streamAddress");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerateRequest r && requestId.equals(r.requestId) && Objects.equals(model, r.model)
                && Arrays.equals(promptTokens, r.promptTokens) && sampling.equals(r.sampling)
                && streamAddress.equals(r.streamAddress) && initialCredits == r.initialCredits
                && Arrays.equals(resumedTokens, r.resumedTokens) && keepaliveMillis == r.keepaliveMillis;
    }

    @Override
    public int hashCode() {
        return requestId.hashCode();
    }

    @Override
    public String toString() {
        return "GenerateRequest[" + requestId + ", model=" + model + ", prompt=" + promptTokens.length
                + " tokens, maxTokens=" + sampling.maxTokens()
                + (resumedTokens.length > 0 ? ", resumed after " + resumedTokens.length + " tokens" : "") + "]";
    }
}
