package io.tandem.gateway.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Multi-turn conversations against {@code /v1/completions} with token-id prompts: each turn's prompt is the
 * previous prompt, the answer (greedy, fixed length, read back as token ids) and a few new tokens. Conversations
 * run concurrently, turns within one sequentially. Reports the prefix-cache hit rate the workers report
 * ({@code cached_tokens}), the oracle's (every turn on the worker that computed its previous turn) and client-side
 * time to first token.
 */
final class MultiTurnWorkload {
    static final int BLOCK = 16;

    /**
     * The size of a conversation: its first prompt, each answer, the new user tokens of each later turn, and the
     * user's think time between an answer and the next turn (milliseconds, drawn uniformly from [0.5, 1.5] × it).
     */
    record Shape(int firstPrompt, int answer, int newTokens, int thinkMillis) {
        /** Short chat turns, back to back: routing tests on the small models. */
        static final Shape SHORT = new Shape(40, 24, 8, 0);
        /** A conversation about a long document (1024 tokens), with think time: where prefill dominates TTFT. */
        static final Shape DOCUMENT = new Shape(1024, 24, 32, 1000);
    }
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /**
     * Totals; TTFT is also split by whether the worker reported a prefix hit ({@code cached_tokens > 0}) for the turn.
     */
    record Result(long promptTokens, long cachedTokens, long oracleCachedTokens, long turns, double ttftMillisSum,
                  long hitTurns, double hitTtftMillisSum) {
        double hitRate() {
            return (double) cachedTokens / promptTokens;
        }

        double oracleHitRate() {
            return (double) oracleCachedTokens / promptTokens;
        }

        double meanTtftMillis() {
            return ttftMillisSum / turns;
        }

        Result plus(Result o) {
            return new Result(promptTokens + o.promptTokens, cachedTokens + o.cachedTokens,
                    oracleCachedTokens + o.oracleCachedTokens, turns + o.turns, ttftMillisSum + o.ttftMillisSum,
                    hitTurns + o.hitTurns, hitTtftMillisSum + o.hitTtftMillisSum);
        }

        double meanHitTtftMillis() {
            return hitTtftMillisSum / hitTurns;
        }

        double meanMissTtftMillis() {
            return (ttftMillisSum - hitTtftMillisSum) / (turns - hitTurns);
        }

        @Override
        public String toString() {
            return String.format("hit %.3f (oracle %.3f), mean TTFT %.1f ms over %d turns (%.1f ms on %d hits, %.1f ms on %d misses)",
                    hitRate(), oracleHitRate(), meanTtftMillis(), turns, meanHitTtftMillis(), hitTurns, meanMissTtftMillis(),
                    turns - hitTurns);
        }
    }

    /** Conversations {@code firstSeed ..} in parallel, each sent to {@code bases[i % bases.length]}. */
    static Result run(List<String> bases, String model, int firstSeed, int conversations, int turns) throws Exception {
        return run(bases, model, firstSeed, conversations, turns, Shape.SHORT);
    }

    static Result run(List<String> bases, String model, int firstSeed, int conversations, int turns, Shape shape) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(conversations);
        try {
            List<Future<Result>> all = new ArrayList<>();
            for (int c = 0; c < conversations; c++) {
                String base = bases.get(c % bases.size());
                int seed = firstSeed + c;
                all.add(pool.submit(() -> conversation(base, model, seed, turns, shape)));
            }
            Result total = new Result(0, 0, 0, 0, 0, 0, 0);
            for (Future<Result> f : all) total = total.plus(f.get());
            return total;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Result conversation(String base, String model, int seed, int turns, Shape shape) throws Exception {
        Random rnd = new Random(seed);
        List<Integer> prompt = new ArrayList<>();
        for (int i = 0; i < shape.firstPrompt(); i++) prompt.add(3 + rnd.nextInt(400));
        long promptTokens = 0, cached = 0, oracle = 0, hits = 0;
        double ttft = 0, hitTtft = 0;
        int previousComputed = 0; // tokens whose KV the previous turn computed: its prompt and all but the last answer token
        for (int turn = 0; turn < turns; turn++) {
            if (turn > 0 && shape.thinkMillis() > 0) Thread.sleep((long) (shape.thinkMillis() * (0.5 + rnd.nextDouble())));
            JsonObject body = new JsonObject().put("model", model).put("prompt", new JsonArray(new ArrayList<>(prompt)))
                    .put("max_tokens", shape.answer()).put("temperature", 0).put("ignore_eos", true).put("stream", true)
                    .put("stream_options", new JsonObject().put("include_usage", true)).put("logprobs", 0)
                    .put("return_tokens_as_token_ids", true);
            long t0 = System.nanoTime();
            HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                    .timeout(Duration.ofSeconds(180)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofLines());
            if (r.statusCode() != 200) throw new AssertionError("turn " + turn + " of conversation " + seed + ": HTTP " + r.statusCode());
            List<Integer> answer = new ArrayList<>();
            JsonObject usage = null;
            long first = 0;
            for (String line : (Iterable<String>) r.body()::iterator) {
                if (!line.startsWith("data: {")) continue;
                JsonObject chunk = new JsonObject(line.substring(6));
                if (chunk.getJsonObject("usage") != null) usage = chunk.getJsonObject("usage");
                JsonArray choices = chunk.getJsonArray("choices");
                if (choices == null || choices.isEmpty() || choices.getJsonObject(0).getJsonObject("logprobs") == null) continue;
                if (first == 0) first = System.nanoTime();
                for (Object t : choices.getJsonObject(0).getJsonObject("logprobs").getJsonArray("tokens")) {
                    answer.add(Integer.parseInt(t.toString().substring("token_id:".length())));
                }
            }
            if (answer.size() != shape.answer() || usage == null) throw new AssertionError("incomplete answer: " + answer.size() + " tokens, usage " + usage);
            double turnTtft = (first - t0) / 1e6;
            ttft += turnTtft;
            promptTokens += usage.getInteger("prompt_tokens");
            int turnCached = usage.getJsonObject("prompt_tokens_details").getInteger("cached_tokens");
            cached += turnCached;
            if (turnCached > 0) {
                hits++;
                hitTtft += turnTtft;
            }
            oracle += Math.min(previousComputed, prompt.size() - 1) / BLOCK * BLOCK;
            previousComputed = prompt.size() + shape.answer() - 1;
            prompt.addAll(answer);
            for (int i = 0; i < shape.newTokens(); i++) prompt.add(3 + rnd.nextInt(400));
        }
        return new Result(promptTokens, cached, oracle, turns, ttft, hits, hitTtft);
    }

    private MultiTurnWorkload() {
    }
}
