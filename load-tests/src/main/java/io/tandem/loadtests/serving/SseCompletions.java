package io.tandem.loadtests.serving;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.parsetools.RecordParser;

/**
 * Streamed {@code /v1/completions} requests timed by a {@link StreamTimer}: the HTTP and SSE half of the load clients
 * ({@link ClosedLoop}, the trace replay). Each receive time is taken on the event loop as the bytes arrive. Call
 * {@link #send} on the Vert.x context this client was made with.
 */
public final class SseCompletions {

    /** A request in flight: its outcome (never failed: a failure is in the outcome) and how to cut it short. */
    public record InFlight(Future<StreamTimer.Outcome> outcome, Runnable cut) {}

    private final HttpClientAgent client;
    private final String url;

    public SseCompletions(Vertx vertx, String baseUrl) {
        // a connection per request: a pooled one may be closed by the server (llama-server's keep-alive timeout) just
        // as a request goes out on it; a loopback connect costs both servers the same fraction of a millisecond
        this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setTcpNoDelay(true),
                new PoolOptions().setHttp1MaxSize(64));
        this.url = baseUrl + "/v1/completions";
    }

    /** Sends {@code body}, sent at {@code sentNanos}, which should stream exactly {@code expectedTokens} tokens. */
    public InFlight send(Buffer body, long sentNanos, int expectedTokens) {
        StreamTimer timer = new StreamTimer(sentNanos);
        Promise<StreamTimer.Outcome> result = Promise.promise();
        HttpClientRequest[] request = new HttpClientRequest[1];
        Runnable cut = () -> {
            timer.cut();
            result.tryComplete(timer.outcome(expectedTokens));
            if (request[0] != null) request[0].reset();
        };
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url)
                .putHeader("Content-Type", "application/json").putHeader("Accept", "text/event-stream")
                .setIdleTimeout(300_000);
        client.request(options)
                .compose(req -> {
                    request[0] = req;
                    return req.send(body);
                })
                .onSuccess(resp -> read(resp, timer, expectedTokens, result))
                .onFailure(err -> {
                    timer.fail("request failed: " + err);
                    result.tryComplete(timer.outcome(expectedTokens));
                });
        return new InFlight(result.future(), cut);
    }

    private static void read(HttpClientResponse resp, StreamTimer timer, int expectedTokens, Promise<StreamTimer.Outcome> result) {
        if (resp.statusCode() != 200) {
            resp.body().onComplete(ar -> {
                timer.fail("HTTP " + resp.statusCode() + ": " + (ar.succeeded() ? ar.result().toString() : ar.cause()));
                result.tryComplete(timer.outcome(expectedTokens));
            });
            return;
        }
        long[] arrived = {0};
        RecordParser lines = RecordParser.newDelimited("\n", line -> timer.line(line.toString(), arrived[0]));
        resp.handler(buf -> {
            arrived[0] = System.nanoTime();
            lines.handle(buf);
        });
        resp.exceptionHandler(err -> {
            timer.fail("stream failed: " + err);
            result.tryComplete(timer.outcome(expectedTokens));
        });
        resp.endHandler(v -> result.tryComplete(timer.outcome(expectedTokens)));
    }

    /** A GET, e.g. {@code /metrics} or {@code /v1/models}; fails on a status other than 200. */
    public Future<String> get(String baseUrl, String path) {
        return client.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(baseUrl + path))
                .compose(req -> req.send().compose(resp -> resp.body().map(b -> {
                    if (resp.statusCode() != 200) throw new IllegalStateException("GET " + path + ": HTTP " + resp.statusCode() + " " + b);
                    return b.toString();
                })));
    }
}
