package io.tandem.protocol;

/**
 * Decode worker ↔ prefill worker. The decode worker sends a {@link Request} to {@link Addresses#prefill} of the
 * prefill worker; the prefill worker computes the prompt, writes the KV of positions {@code [cachedTokens, prompt)}
 * into the decode worker's {@code blockTable} through its transfer agent, and replies with a {@link Result} once every
 * byte is in place — or fails the reply with an {@link ErrorCode} code and the reason. A cancel is a
 * {@link ControlMessage.Cancel} to the prefill worker's control address.
 */
public sealed interface RemotePrefillMessage {

    String requestId();

    /**
     * @param decodeWorkerId whose blocks receive the KV (its transfer agent and bootstrap)
     * @param blockTable     the decode worker's blocks for the whole prompt
     * @param cachedTokens   leading positions the decode worker already holds (its prefix-cache hit)
     * @param decodeEpoch    the decode worker's epoch: the bootstrap the prefill worker writes by must be of this start
     * @param fenceToken     the reservation's fencing token: every write carries it, and the decode worker drops writes
     *                       whose token no longer owns the blocks (after a timeout, a cancel, or reuse)
     */
    record Request(String requestId, int[] promptTokens, SamplingParams sampling, String decodeWorkerId,
                   int[] blockTable, int cachedTokens, long decodeEpoch, long fenceToken) implements RemotePrefillMessage {
        @Override
        public String toString() {
            return "RemotePrefill.Request[" + requestId + ", prompt " + promptTokens.length + ", decode " + decodeWorkerId
                    + ", cached " + cachedTokens + "]";
        }
    }

    /**
     * @param firstToken          the first generated token, sampled with the request's parameters
     * @param logprobs            its logprobs, or null when not requested
     * @param prefillCachedTokens how much of the prompt the prefill worker's own prefix cache supplied
     * @param transferredBytes    KV bytes written into the decode worker's blocks
     */
    record Result(String requestId, int firstToken, TokenLogprobs logprobs, int prefillCachedTokens,
                  long transferredBytes) implements RemotePrefillMessage {
    }
}
