package io.tandem.gateway.api;

import io.tandem.protocol.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * OpenAI response bodies and stream chunks, shaped exactly as OpenAI's (pure JSON building).
 * Chat: {@code chat.completion} / {@code chat.completion.chunk}; completions: {@code text_completion}
 * for both the response and its chunks.
 */
public final class ResponseShapes {

    /**
     * What every body of one response shares.
     *
     * @param usageInChunks with {@code stream_options.include_usage}, every chunk carries
     *                      {@code "usage": null} and a last chunk carries the usage
     */
    public record Meta(Endpoint endpoint, String id, long created, String model, boolean usageInChunks) {}

    private ResponseShapes() {}

    /** Chat only: the first chunk, announcing the assistant role with empty content. */
    public static JsonObject roleChunk(Meta meta) {
        JsonObject delta = new JsonObject().put("role", "assistant").put("content", "");
        return chunk(meta, chatChoice(delta, null, null));
    }

    /** A chunk with newly generated text (and the logprobs of the tokens it came from, or null). */
    public static JsonObject textChunk(Meta meta, String text, JsonObject logprobs) {
        if (meta.endpoint() == Endpoint.CHAT) {
            return chunk(meta, chatChoice(new JsonObject().put("content", text), logprobs, null));
        }
        return chunk(meta, completionChoice(text, logprobs, null));
    }

    /** The chunk that ends the choice: empty delta (chat) or empty text, and the finish reason. */
    public static JsonObject finishChunk(Meta meta, String finishReason) {
        if (meta.endpoint() == Endpoint.CHAT) {
            return chunk(meta, chatChoice(new JsonObject(), null, finishReason));
        }
        return chunk(meta, completionChoice("", null, finishReason));
    }

    /** With include_usage: the last chunk, no choices, the usage of the whole request. */
    public static JsonObject usageChunk(Meta meta, Usage usage) {
        return base(meta, meta.endpoint().chunkObject())
                .put("choices", new JsonArray())
                .put("usage", usage(usage));
    }

    /**
     * {@code stream_options.continuous_usage_stats}: {@code chunk} with the usage so far instead of {@code null}
     * (cached tokens are known only at the end, in the usage chunk).
     */
    public static JsonObject withRunningUsage(JsonObject chunk, int promptTokens, long completionTokens) {
        return chunk.put("usage", new JsonObject()
                .put("prompt_tokens", promptTokens)
                .put("completion_tokens", completionTokens)
                .put("total_tokens", promptTokens + completionTokens));
    }

    /** The whole non-streamed response. */
    public static JsonObject completion(Meta meta, String text, String finishReason, Usage usage, JsonObject logprobs) {
        JsonObject choice;
        if (meta.endpoint() == Endpoint.CHAT) {
            choice = new JsonObject()
                    .put("index", 0)
                    .put("message", new JsonObject().put("role", "assistant").put("content", text).put("refusal", null))
                    .put("logprobs", logprobs)
                    .put("finish_reason", finishReason);
        } else {
            choice = completionChoice(text, logprobs, finishReason);
        }
        return base(meta, meta.endpoint().object())
                .put("choices", new JsonArray().add(choice))
                .put("usage", usage(usage));
    }

    public static JsonObject usage(Usage usage) {
        return new JsonObject()
                .put("prompt_tokens", usage.promptTokens())
                .put("completion_tokens", usage.completionTokens())
                .put("total_tokens", usage.totalTokens())
                .put("prompt_tokens_details", new JsonObject().put("cached_tokens", usage.cachedTokens()));
    }

    private static JsonObject chunk(Meta meta, JsonObject choice) {
        JsonObject chunk = base(meta, meta.endpoint().chunkObject()).put("choices", new JsonArray().add(choice));
        if (meta.usageInChunks()) chunk.put("usage", null);
        return chunk;
    }

    private static JsonObject base(Meta meta, String object) {
        return new JsonObject()
                .put("id", meta.id())
                .put("object", object)
                .put("created", meta.created())
                .put("model", meta.model())
                .put("system_fingerprint", null);
    }

    private static JsonObject chatChoice(JsonObject delta, JsonObject logprobs, String finishReason) {
        return new JsonObject()
                .put("index", 0)
                .put("delta", delta)
                .put("logprobs", logprobs)
                .put("finish_reason", finishReason);
    }

    private static JsonObject completionChoice(String text, JsonObject logprobs, String finishReason) {
        return new JsonObject()
                .put("index", 0)
                .put("text", text)
                .put("logprobs", logprobs)
                .put("finish_reason", finishReason);
    }
}
