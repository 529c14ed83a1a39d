package io.tandem.gateway.api;

import io.tandem.protocol.TokenLogprobs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Collects the {@link TokenLogprobs} a worker sent and renders them in OpenAI's shape:
 * chat {@code {"content": [{token, logprob, bytes, top_logprobs}]}}, completions
 * {@code {tokens, token_logprobs, top_logprobs, text_offset}}. {@link #drain} renders what was
 * collected since the last call (one stream chunk); offsets keep counting across drains.
 */
public final class LogprobsShaper {

    private final Endpoint endpoint;
    private final IntFunction<byte[]> piece;
    private final List<TokenLogprobs> pending = new ArrayList<>();
    private int textOffset;

    /**
     * @param piece       token id to its text bytes (the tokenizer's piece)
     * @param tokensAsIds name every token {@code token_id:N} (vLLM's {@code return_tokens_as_token_ids})
     */
    public LogprobsShaper(Endpoint endpoint, IntFunction<byte[]> piece, boolean tokensAsIds) {
        this.endpoint = endpoint;
        this.piece = tokensAsIds ? id -> ("token_id:" + id).getBytes(StandardCharsets.UTF_8) : piece;
    }

    public LogprobsShaper(Endpoint endpoint, IntFunction<byte[]> piece) {
        this(endpoint, piece, false);
    }

    public void add(TokenLogprobs logprobs) {
        if (logprobs != null) pending.add(logprobs);
    }

    public boolean isEmpty() {
        return pending.isEmpty();
    }

    /** The collected entries in OpenAI's shape, then forgets them; null when none were collected. */
    public JsonObject drain() {
        if (pending.isEmpty()) return null;
        JsonObject out = endpoint == Endpoint.CHAT ? chat() : completion();
        pending.clear();
        return out;
    }

    private JsonObject chat() {
        JsonArray content = new JsonArray();
        for (TokenLogprobs lp : pending) {
            JsonArray top = new JsonArray();
            int[] ids = lp.topTokens() == null ? new int[0] : lp.topTokens();
            for (int i = 0; i < ids.length; i++) {
                top.add(entry(ids[i], lp.topLogprobs()[i]));
            }
            content.add(entry(lp.token(), lp.logprob()).put("top_logprobs", top));
        }
        return new JsonObject().put("content", content).put("refusal", null);
    }

    private JsonObject entry(int token, float logprob) {
        byte[] bytes = piece.apply(token);
        JsonArray byteList = new JsonArray();
        for (byte b : bytes) byteList.add(b & 0xff);
        return new JsonObject()
                .put("token", new String(bytes, StandardCharsets.UTF_8))
                .put("logprob", (double) logprob)
                .put("bytes", byteList);
    }

    private JsonObject completion() {
        JsonArray tokens = new JsonArray();
        JsonArray tokenLogprobs = new JsonArray();
        JsonArray topLogprobs = new JsonArray();
        JsonArray offsets = new JsonArray();
        for (TokenLogprobs lp : pending) {
            String text = new String(piece.apply(lp.token()), StandardCharsets.UTF_8);
            tokens.add(text);
            tokenLogprobs.add((double) lp.logprob());
            JsonObject top = new JsonObject();
            int[] ids = lp.topTokens() == null ? new int[0] : lp.topTokens();
            for (int i = 0; i < ids.length; i++) {
                top.put(new String(piece.apply(ids[i]), StandardCharsets.UTF_8), (double) lp.topLogprobs()[i]);
            }
            topLogprobs.add(top);
            offsets.add(textOffset);
            textOffset += text.length();
        }
        return new JsonObject()
                .put("tokens", tokens)
                .put("token_logprobs", tokenLogprobs)
                .put("top_logprobs", topLogprobs)
                .put("text_offset", offsets);
    }
}
