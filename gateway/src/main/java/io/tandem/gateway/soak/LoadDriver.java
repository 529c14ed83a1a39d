package io.tandem.gateway.soak;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps a number of streamed completions open against a gateway: each of its slots sends the next request of the
 * {@link LoadPlan} as soon as its previous one ended, until {@link #stopStarting()}. Every ending is judged and
 * counted in the {@link Tally}; planned disconnects and cancels are done here, by resetting the request (HTTP/1.1:
 * closing its connection).
 */
final class LoadDriver {
    /** Longer than anything legitimate: the gateway queue's 30 s plus a worker's queue and a migration. */
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(120);

    private final Vertx vertx;
    private final int port;
    private volatile HttpClient client;
    private final LoadPlan plan;
    private final String model;
    private final int streams;
    private final Tally tally;
    private final SplittableRandom random;
    private final AtomicInteger open = new AtomicInteger();
    private volatile boolean starting = true;

    LoadDriver(Vertx vertx, int port, String model, LoadPlan plan, int streams, Tally tally, long seed) {
        this.vertx = vertx;
        this.port = port;
        this.plan = plan;
        this.model = model;
        this.streams = streams;
        this.tally = tally;
        this.random = new SplittableRandom(seed);
    }

    /**
     * Opens every slot's first stream, on connections of its own (again, after {@link #stopStarting()},
     * {@link #awaitIdle} and {@link #closeConnections()}).
     */
    void start() {
        if (client == null) {
            // a connection per stream, plus room for connections still closing after a deliberate reset
            client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
                    .setConnectTimeout(10_000).setKeepAlive(true), new PoolOptions().setHttp1MaxSize(streams + 64));
        }
        starting = true;
        for (int i = 0; i < streams; i++) {
            SplittableRandom slotRandom = random.split(); // one sequence per slot: a seed replays the same plan
            vertx.runOnContext(v -> next(slotRandom));
        }
    }

    /** Sends no new request from now on; the open ones run to their end. */
    void stopStarting() {
        starting = false;
    }

    /** Requests sent and not yet ended. */
    int open() {
        return open.get();
    }

    /** Waits until every request ended (after {@link #stopStarting()}); false when {@code within} ran out first. */
    boolean awaitIdle(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (open.get() > 0) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(100); // the count is changed on event loops; polling it is the simplest bounded wait
        }
        return true;
    }

    /**
     * Closes the idle keep-alive connections, so that a sample of the gateway does not count a thousand of them at
     * one time and none at another (they would close by themselves after the pool's keep-alive timeout).
     */
    void closeConnections() throws java.util.concurrent.TimeoutException {
        HttpClient c = client;
        client = null;
        if (c != null) c.close().await(30, TimeUnit.SECONDS);
    }

    private void next(SplittableRandom slotRandom) {
        if (!starting) return;
        open.incrementAndGet();
        new Stream(plan.next(slotRandom), slotRandom).send();
    }

    /** One request from sending to its judged end. */
    private final class Stream {
        private final HttpClient client = LoadDriver.this.client;
        private final LoadPlan.Planned planned;
        private final SplittableRandom slotRandom;
        private final SseStream sse;
        private final AtomicBoolean ended = new AtomicBoolean();
        private volatile HttpClientRequest request;

        Stream(LoadPlan.Planned planned, SplittableRandom slotRandom) {
            this.planned = planned;
            this.slotRandom = slotRandom;
            this.sse = new SseStream(planned.maxTokens());
        }

        void send() {
            JsonObject body = new JsonObject().put("model", model).put("prompt", planned.prompt())
                    .put("max_tokens", planned.maxTokens()).put("ignore_eos", true).put("stream", true)
                    .put("stream_options", new JsonObject().put("include_usage", true));
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI("/v1/completions")
                    .setIdleTimeout(IDLE_TIMEOUT.toMillis()).putHeader("content-type", "application/json");
            client.request(options).onComplete(opened -> {
                if (opened.failed()) {
                    end(new StreamOutcome.Failed("connect", String.valueOf(opened.cause())));
                    return;
                }
                request = opened.result();
                if (planned.ending() instanceof LoadPlan.Ending.CancelAfter cancel) {
                    vertx.setTimer(cancel.millis(), id -> cutShort(new StreamOutcome.Cancelled(sse.chunks())));
                }
                request.send(body.toBuffer()).onComplete(sent -> {
                    if (sent.failed()) end(new StreamOutcome.Failed("request", String.valueOf(sent.cause())));
                    else read(sent.result());
                });
            });
        }

        private void read(HttpClientResponse response) {
            if (response.statusCode() != 200) {
                int status = response.statusCode();
                response.body().onComplete(b -> end(new StreamOutcome.Failed("HTTP " + status,
                        SseStream.abbreviate(b.succeeded() ? b.result().toString() : String.valueOf(b.cause())))));
                return;
            }
            int disconnectAfter = planned.ending() instanceof LoadPlan.Ending.DisconnectAfter d ? d.chunks() : Integer.MAX_VALUE;
            response.handler(RecordParser.newDelimited("\n", (Buffer line) -> {
                sse.line(line.toString());
                if (sse.chunks() >= disconnectAfter) cutShort(new StreamOutcome.Disconnected(sse.chunks()));
            }));
            response.exceptionHandler(e -> end(new StreamOutcome.Failed("stream cut",
                    "after " + sse.chunks() + " of " + planned.maxTokens() + " tokens: " + e)));
            response.endHandler(v -> end(sse.ended()));
        }

        /** The client's own ending: counted as such, then the request is reset. */
        private void cutShort(StreamOutcome deliberate) {
            if (!end(deliberate)) return;
            HttpClientRequest r = request;
            if (r != null) r.reset();
        }

        /** Counts the first ending only; the slot then sends its next request. */
        private boolean end(StreamOutcome outcome) {
            if (!ended.compareAndSet(false, true)) return false;
            tally.record(outcome);
            open.decrementAndGet();
            next(slotRandom);
            return true;
        }
    }
}
