package io.tandem.gateway.api;

import java.util.List;

/**
 * A validated chat or text completion request. Exactly one of {@code messages} (chat) and
 * {@code prompt} (completions) is set.
 *
 * @param maxTokens    requested upper bound on generated tokens, or null for "the rest of the context"
 * @param seed         null means unseeded
 * @param topK         0 means off
 * @param stop         at most 4 non-empty stop strings
 * @param logprobs     top alternatives per token to return, -1 for no logprobs at all
 * @param includeUsage stream a final usage chunk (only with stream)
 * @param continuousUsage vLLM's extension {@code stream_options.continuous_usage_stats} (with include_usage): every
 *                     chunk also carries the usage so far, so a client knows how many tokens each chunk holds
 * @param ignoreEos    vLLM's extension: keep generating past end-of-generation tokens
 * @param tokensAsIds  vLLM's extension {@code return_tokens_as_token_ids}: logprobs name tokens
 *                     {@code token_id:N} instead of by their text (exact even for partial UTF-8)
 * @param priority     vLLM's extension: when every worker is busy, queued requests with a lower value go first
 *                     (default 0; ties first come, first served)
 */
public record CompletionRequest(
        Endpoint endpoint,
        String model,
        List<Message> messages,
        Prompt prompt,
        Integer maxTokens,
        double temperature,
        double topP,
        int topK,
        double minP,
        Long seed,
        List<String> stop,
        boolean stream,
        boolean includeUsage,
        boolean continuousUsage,
        double presencePenalty,
        double frequencyPenalty,
        int logprobs,
        String user,
        boolean ignoreEos,
        boolean tokensAsIds,
        int priority) {

    public CompletionRequest {
        stop = List.copyOf(stop);
        messages = messages == null ? null : List.copyOf(messages);
    }

    public boolean wantsLogprobs() {
        return logprobs >= 0;
    }
}
