package io.tandem.loadtests.serving;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Arrays;

/**
 * One streamed completion's timing, fed the SSE {@code data:} payloads as they arrive. A token event is a chunk that
 * brings new tokens; how many it brings is read from the running count the server puts in every chunk
 * ({@code usage.completion_tokens} with vLLM's {@code continuous_usage_stats}, as Tandem does; {@code
 * timings.predicted_n} with llama-server's {@code timings_per_token}), else one per chunk with text. Pure: no I/O, the
 * caller passes the receive time.
 *
 * <p>TTFT is from sending the request to the first token event. ITL: an event bringing {@code k} tokens a gap
 * {@code g} after the previous event counts {@code k} gaps of {@code g / k} (the tokens of one event arrived together;
 * those after the first of the first event count none, the first event being the TTFT).
 */
public final class StreamTimer {
    private final long sentNanos;
    private long lastEventNanos = -1;
    private long firstNanos = -1;
    private int tokens;
    private int reportedTokens = -1;
    /** From {@code usage}: the prompt's tokens and how many of them the server had cached; -1 until reported. */
    private int promptTokens = -1;
    private int cachedTokens = -1;
    private String error;
    private boolean done;
    private boolean cut;
    private long[] itl = new long[128];
    private int itlCount;
    /** Per token event: its receive time and token count (for tokens/s over a window). */
    private long[] eventNanos = new long[128];
    private int[] eventTokens = new int[128];
    private int events;

    public StreamTimer(long sentNanos) {
        this.sentNanos = sentNanos;
    }

    /** One SSE line (without its terminator) received at {@code nanos}. */
    public void line(String raw, long nanos) {
        String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
        if (!line.startsWith("data:")) return;
        String data = line.substring(5).strip();
        if (data.equals("[DONE]")) {
            done = true;
            return;
        }
        JsonObject chunk;
        try {
            chunk = new JsonObject(data);
        } catch (RuntimeException e) {
            fail("unparseable chunk: " + abbreviate(data));
            return;
        }
        chunk(chunk, nanos);
    }

    void chunk(JsonObject chunk, long nanos) {
        if (chunk.containsKey("error")) {
            fail(abbreviate(String.valueOf(chunk.getValue("error"))));
            return;
        }
        promptUsage(chunk);
        int running = runningCount(chunk);
        JsonArray choices = chunk.getJsonArray("choices");
        if (choices == null || choices.isEmpty()) { // the usage chunk
            if (running >= 0) reportedTokens = running;
            return;
        }
        JsonObject choice = choices.getJsonObject(0);
        String text = choice.getString("text");
        if (text == null && choice.getJsonObject("delta") != null) text = choice.getJsonObject("delta").getString("content");
        int k = running >= 0 ? running - tokens : (text == null || text.isEmpty() ? 0 : 1);
        if (k > 0) tokenEvent(nanos, k);
    }

    private void promptUsage(JsonObject chunk) {
        if (!(chunk.getValue("usage") instanceof JsonObject usage)) return;
        if (usage.getValue("prompt_tokens") instanceof Number n) promptTokens = n.intValue();
        if (usage.getValue("prompt_tokens_details") instanceof JsonObject details
                && details.getValue("cached_tokens") instanceof Number n) {
            cachedTokens = n.intValue();
        }
    }

    private static int runningCount(JsonObject chunk) {
        if (chunk.getValue("usage") instanceof JsonObject usage && usage.getValue("completion_tokens") instanceof Number n) {
            return n.intValue();
        }
        if (chunk.getValue("timings") instanceof JsonObject timings && timings.getValue("predicted_n") instanceof Number n) {
            return n.intValue();
        }
        return -1;
    }

    private void tokenEvent(long nanos, int k) {
        if (firstNanos < 0) {
            firstNanos = nanos;
        } else {
            long share = (nanos - lastEventNanos) / k;
            for (int i = 0; i < k; i++) {
                if (itlCount == itl.length) itl = Arrays.copyOf(itl, itl.length * 2);
                itl[itlCount++] = share;
            }
        }
        if (events == eventNanos.length) {
            eventNanos = Arrays.copyOf(eventNanos, events * 2);
            eventTokens = Arrays.copyOf(eventTokens, events * 2);
        }
        eventNanos[events] = nanos;
        eventTokens[events++] = k;
        lastEventNanos = nanos;
        tokens += k;
    }

    /**
     * The level ended with this request still streaming and the client closed it: what arrived counts (its TTFT and
     * gaps are real), its length does not.
     */
    public void cut() {
        cut = true;
    }

    /** The request failed (HTTP status, connection, an error event). The first reason counts. */
    public void fail(String why) {
        if (error == null) error = why;
    }

    /** What the stream came to; {@code expectedTokens} is what {@code max_tokens} with {@code ignore_eos} promises. */
    public Outcome outcome(int expectedTokens) {
        String why = cut ? null : error;
        if (why == null && !cut && !done) why = "the stream ended without [DONE]";
        if (why == null && !cut && tokens != expectedTokens) why = "got " + tokens + " tokens, expected " + expectedTokens;
        if (why == null && reportedTokens >= 0 && reportedTokens != tokens) {
            why = "counted " + tokens + " tokens, usage says " + reportedTokens;
        }
        return new Outcome(why, cut, firstNanos < 0 ? -1 : firstNanos - sentNanos, Arrays.copyOf(itl, itlCount),
                Arrays.copyOf(eventNanos, events), Arrays.copyOf(eventTokens, events), tokens, promptTokens, cachedTokens);
    }

    /**
     * @param error       null when the request delivered what it should (or was cut)
     * @param cut         the level ended before the request: it was closed while streaming
     * @param ttftNanos   -1 without a token
     * @param eventNanos  receive time of each token event, and {@code eventTokens} its tokens
     * @param promptTokens {@code usage.prompt_tokens}, -1 when the server did not report it
     * @param cachedTokens {@code usage.prompt_tokens_details.cached_tokens} (prefix-cache hits), -1 when not reported
     */
    public record Outcome(String error, boolean cut, long ttftNanos, long[] itlNanos, long[] eventNanos, int[] eventTokens, int tokens,
                          int promptTokens, int cachedTokens) {
        public boolean ok() {
            return error == null;
        }

        /**
         * Time per output token after the first (vLLM's and DistServe's TPOT): from the first token event to the last,
         * over the tokens after the first; -1 with fewer than two tokens.
         */
        public long tpotNanos() {
            if (tokens < 2 || eventNanos.length == 0) return -1;
            return (eventNanos[eventNanos.length - 1] - eventNanos[0]) / (tokens - 1);
        }

        /** Tokens received in {@code [fromNanos, toNanos)}. */
        public long tokensBetween(long fromNanos, long toNanos) {
            long n = 0;
            for (int i = 0; i < eventNanos.length; i++) {
                if (eventNanos[i] >= fromNanos && eventNanos[i] < toNanos) n += eventTokens[i];
            }
            return n;
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "...";
    }
}
