package io.tandem.loadtests.serving;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Closed-loop load on one {@code /v1/completions} server: {@code concurrency} clients, each sending its next request
 * as soon as its previous one ended, for a window of time or a number of requests. Every request streams a distinct
 * prompt ({@link Prompts}) for exactly {@code maxTokens} tokens ({@code ignore_eos}, greedy). Runs on one event loop,
 * which takes each receive time as the bytes arrive.
 */
public final class ClosedLoop implements AutoCloseable {

    /** A request: what it asked, when it was sent, what came back. */
    public record Done(long sentNanos, StreamTimer.Outcome outcome) {}

    private final Vertx vertx;
    private final SseCompletions sse;
    private final String model;
    private final Prompts prompts;
    private final int maxTokens;
    private long nextPrompt;
    /** How to cut each request in flight (event loop only). */
    private final java.util.Set<Runnable> open = new java.util.HashSet<>();

    public ClosedLoop(String baseUrl, String model, Prompts prompts, int maxTokens) {
        this.vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        this.sse = new SseCompletions(vertx, baseUrl);
        this.model = model;
        this.prompts = prompts;
        this.maxTokens = maxTokens;
    }

    /**
     * Runs {@code concurrency} clients until {@code windowNanos} has passed since the start or {@code maxRequests}
     * requests were started, then waits up to {@code drainNanos} for those in flight and cuts the rest (see
     * {@link StreamTimer#cut()}), so a level takes a bounded time even on a server slowed to a crawl. Blocks the caller.
     */
    public List<Done> run(int concurrency, long windowNanos, int maxRequests, long drainNanos) {
        return run(concurrency, windowNanos, maxRequests, drainNanos, done -> { });
    }

    /** {@link #run(int, long, int, long)}, telling {@code onDone} the number of requests ended after each one (on the event loop). */
    public List<Done> run(int concurrency, long windowNanos, int maxRequests, long drainNanos, IntConsumer onDone) {
        Promise<List<Done>> all = Promise.promise();
        vertx.runOnContext(v -> {
            long deadline = System.nanoTime() + windowNanos;
            long cutTimer = vertx.setTimer(Math.max(1, (windowNanos + drainNanos) / 1_000_000), t -> List.copyOf(open).forEach(Runnable::run));
            all.future().onComplete(ar -> vertx.cancelTimer(cutTimer));
            List<Done> done = new ArrayList<>();
            int[] started = {0}, running = {concurrency};
            Runnable[] client = new Runnable[1];
            client[0] = () -> {
                if (System.nanoTime() - deadline >= 0 || started[0] >= maxRequests) {
                    if (--running[0] == 0) all.complete(done);
                    return;
                }
                started[0]++;
                long sent = System.nanoTime();
                send(nextPrompt++, sent).onComplete(ar -> {
                    done.add(new Done(sent, ar.result()));
                    onDone.accept(done.size());
                    client[0].run();
                });
            };
            for (int i = 0; i < concurrency; i++) client[0].run();
        });
        return await(all.future());
    }

    /** One streamed request; never fails (a failure is in the outcome). */
    private Future<StreamTimer.Outcome> send(long promptIndex, long sent) {
        Buffer body = requestBody(model, prompts.prompt(promptIndex), maxTokens).toBuffer();
        SseCompletions.InFlight request = sse.send(body, sent, maxTokens);
        open.add(request.cut());
        request.outcome().onComplete(ar -> open.remove(request.cut()));
        return request.outcome();
    }

    /**
     * The same body for every server: Tandem reads {@code ignore_eos} and {@code continuous_usage_stats} (vLLM's
     * extensions), llama-server {@code ignore_eos} and {@code timings_per_token}; each ignores the other's fields.
     */
    public static JsonObject requestBody(String model, int[] prompt, int maxTokens) {
        JsonArray ids = new JsonArray();
        for (int id : prompt) ids.add(id);
        return new JsonObject().put("model", model).put("prompt", ids).put("max_tokens", maxTokens)
                .put("ignore_eos", true).put("temperature", 0.0).put("stream", true)
                .put("stream_options", new JsonObject().put("include_usage", true).put("continuous_usage_stats", true))
                .put("timings_per_token", true);
    }

    /** A GET on the server, e.g. {@code /metrics} or {@code /v1/models}; blocks the caller. */
    public String get(String baseUrl, String path) {
        return await(sse.get(baseUrl, path));
    }

    private static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void close() {
        await(vertx.close());
    }
}
