package io.tandem.loadtests.replay;

import io.tandem.loadtests.serving.ClosedLoop;
import io.tandem.loadtests.serving.SseCompletions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Sends the requests open loop, each at its {@link ReplayRequest#sendAtNanos()} after the start whatever the server's
 * state, on one Vert.x event loop ({@link SseCompletions} times each stream). A request still streaming {@code
 * drainNanos} after the last send is cut and counts as failed, so a replay ends in bounded time.
 */
public final class Replayer implements AutoCloseable {

    /** Counts for a progress display, read on the event loop. */
    public record Counts(int sent, int done, int failed, long elapsedNanos) {}

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    private final SseCompletions sse;
    private final String baseUrl;

    public Replayer(String baseUrl) {
        this.baseUrl = baseUrl;
        this.sse = new SseCompletions(vertx, baseUrl);
    }

    /** The JSON of a GET on the server, e.g. {@code /v1/models}; blocks the caller. */
    public JsonObject getJson(String path) {
        return new JsonObject(await(sse.get(baseUrl, path)));
    }

    /**
     * Replays {@code requests} (sorted or not) for {@code model}, calling {@code progress} about every {@code
     * progressMillis}; blocks the caller. Returns the samples in request order and the wall time (start to last end).
     */
    public Result run(String model, List<ReplayRequest> requests, long drainNanos, long progressMillis, Consumer<Counts> progress) {
        Promise<Result> all = Promise.promise();
        vertx.runOnContext(v -> {
            long start = System.nanoTime();
            Sample[] samples = new Sample[requests.size()];
            Set<Runnable> open = new HashSet<>();
            int[] sent = {0}, done = {0}, failed = {0};
            long[] lastEnd = {start};
            long ticker = vertx.setPeriodic(progressMillis,
                    t -> progress.accept(new Counts(sent[0], done[0], failed[0], System.nanoTime() - start)));
            long lastSend = requests.stream().mapToLong(ReplayRequest::sendAtNanos).max().orElse(0);
            long cutter = vertx.setTimer(Math.max(1, (lastSend + drainNanos) / 1_000_000), t -> List.copyOf(open).forEach(Runnable::run));
            all.future().onComplete(ar -> {
                vertx.cancelTimer(ticker);
                vertx.cancelTimer(cutter);
            });
            if (requests.isEmpty()) all.complete(new Result(List.of(), 0));
            for (int i = 0; i < requests.size(); i++) {
                int slot = i;
                ReplayRequest r = requests.get(i);
                Runnable fire = () -> {
                    long now = System.nanoTime();
                    sent[0]++;
                    var body = ClosedLoop.requestBody(model, r.prompt(), r.maxTokens()).toBuffer();
                    SseCompletions.InFlight f = sse.send(body, now, r.maxTokens());
                    open.add(f.cut());
                    f.outcome().onComplete(ar -> {
                        open.remove(f.cut());
                        Sample s = new Sample(r, now - start, now - start - r.sendAtNanos(), ar.result());
                        samples[slot] = s;
                        lastEnd[0] = System.nanoTime();
                        if (s.failed()) failed[0]++;
                        if (++done[0] == samples.length) all.complete(new Result(List.of(samples), lastEnd[0] - start));
                    });
                };
                long delayMillis = (start + r.sendAtNanos() - System.nanoTime() + 999_999) / 1_000_000; // never early
                if (delayMillis >= 1) vertx.setTimer(delayMillis, t -> fire.run());
                else vertx.runOnContext(x -> fire.run());
            }
        });
        return await(all.future());
    }

    /** @param wallNanos from the start to the end of the last response */
    public record Result(List<Sample> samples, long wallNanos) {}

    private static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public void close() {
        await(vertx.close());
    }
}
