package io.tandem.gateway.soak;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * Reads one streamed completion's SSE lines and judges it when it ends. Only lines that may decide the verdict are
 * parsed as JSON (the usage chunk, finish reasons, errors); content chunks are just counted, so a thousand streams
 * cost the soak driver little.
 */
public final class SseStream {
    private static final String DATA = "data:";

    private final int expectedTokens;
    private int chunks;
    private String finishReason;
    private int completionTokens = -1;
    private String error;
    private boolean done;

    /** A stream that must deliver {@code expectedTokens} tokens ({@code max_tokens} with {@code ignore_eos}). */
    public SseStream(int expectedTokens) {
        this.expectedTokens = expectedTokens;
    }

    /** One line of the response body, without its line terminator. */
    public void line(String raw) {
        String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        if (!line.startsWith(DATA)) return; // blank separators, comments (": keep-alive"), event names
        String data = line.substring(DATA.length()).strip();
        if (data.equals("[DONE]")) {
            done = true;
            return;
        }
        boolean decisive = data.contains("\"error\"") || data.contains("\"completion_tokens\"")
                || (data.contains("\"finish_reason\":\"") && !data.contains("\"finish_reason\":null"));
        if (!decisive) {
            chunks++;
            return;
        }
        JsonObject json;
        try {
            json = new JsonObject(data);
        } catch (DecodeException e) {
            if (error == null) error = "unparseable chunk: " + abbreviate(data);
            return;
        }
        if (json.containsKey("error")) {
            if (error == null) error = abbreviate(String.valueOf(json.getValue("error")));
            return;
        }
        JsonObject usage = json.getJsonObject("usage");
        if (usage != null) completionTokens = usage.getInteger("completion_tokens", -1);
        var choices = json.getJsonArray("choices");
        if (choices != null && !choices.isEmpty()) {
            chunks++;
            String reason = choices.getJsonObject(0).getString("finish_reason");
            if (reason != null) finishReason = reason;
        }
    }

    /** Content chunks so far (a chunk usually carries one token; UTF-8 may merge a few). */
    public int chunks() {
        return chunks;
    }

    /** The verdict on a response body that ended normally. */
    public StreamOutcome ended() {
        if (error != null) return new StreamOutcome.Failed("error event", error);
        if (!done) return new StreamOutcome.Failed("no [DONE]", "the stream ended after " + chunks + " chunks without [DONE]");
        if (!"length".equals(finishReason)) {
            return new StreamOutcome.Failed("finish reason", "finish_reason " + finishReason + ", expected length");
        }
        if (completionTokens != expectedTokens) {
            return new StreamOutcome.Failed("token count", "usage.completion_tokens " + completionTokens + ", expected " + expectedTokens);
        }
        return new StreamOutcome.Completed(chunks);
    }

    static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
