package io.tandem.gateway.grpc;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A Vert.x gRPC client on its own Vert.x, with blocking calls that return the status, its message and the messages. */
public final class GrpcTestClient implements AutoCloseable {

    /** What a call came to. */
    public record Reply<Resp>(GrpcStatus status, String message, List<Resp> messages) {
        public Resp single() {
            if (status != GrpcStatus.OK || messages.size() != 1) throw new AssertionError("expected one message and OK, got " + this);
            return messages.getFirst();
        }
    }

    private final Vertx vertx = Vertx.vertx();
    private final GrpcClient client;
    private final SocketAddress server;

    public GrpcTestClient(int port) {
        this(port, 64L << 20);
    }

    GrpcTestClient(int port, long maxMessageBytes) {
        this(port, maxMessageBytes, 65535);
    }

    /** @param streamWindowBytes the HTTP/2 flow-control window of each call: how much the server may send unread */
    GrpcTestClient(int port, long maxMessageBytes, int streamWindowBytes) {
        client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(maxMessageBytes),
                new HttpClientOptions().setHttp2ClearTextUpgrade(false)
                        .setInitialSettings(new Http2Settings().setInitialWindowSize(streamWindowBytes)));
        server = SocketAddress.inetSocketAddress(port, "127.0.0.1");
    }

    /** A call with one request message (unary or server-streaming), optional {@code authorization} metadata. */
    <Req, Resp> Reply<Resp> call(ServiceMethod<Resp, Req> method, Req request, String authorization) {
        return call(method, List.of(request), authorization, m -> false);
    }

    public <Req, Resp> Reply<Resp> call(ServiceMethod<Resp, Req> method, Req request) {
        return call(method, request, null);
    }

    /**
     * Sends {@code requests}, half-closes, collects the responses; cancels the call (RST_STREAM) as soon as a response
     * matches {@code cancelWhen} — the reply's status is then CANCELLED.
     */
    <Req, Resp> Reply<Resp> call(ServiceMethod<Resp, Req> method, List<Req> requests, String authorization,
                                 Predicate<Resp> cancelWhen) {
        return await(callAsync(method, requests, authorization, cancelWhen));
    }

    /** {@link #call(ServiceMethod, List, String, Predicate)} without waiting; {@code onMessage} sees each response. */
    <Req, Resp> Future<Reply<Resp>> callAsync(ServiceMethod<Resp, Req> method, List<Req> requests, String authorization,
                                              Predicate<Resp> cancelWhen) {
        List<Resp> received = new CopyOnWriteArrayList<>();
        Promise<Reply<Resp>> done = Promise.promise();
        vertx.runOnContext(v -> client.request(server, method).onFailure(done::tryFail).onSuccess(req -> {
            if (authorization != null) req.headers().set("authorization", authorization);
            req.response().onFailure(done::tryFail).onSuccess(resp -> {
                resp.handler(m -> {
                    received.add(m);
                    if (cancelWhen.test(m)) {
                        req.cancel();
                        done.tryComplete(new Reply<>(GrpcStatus.CANCELLED, "cancelled by the client", List.copyOf(received)));
                    }
                });
                resp.exceptionHandler(done::tryFail);
                resp.endHandler(end -> {
                    String message = resp.statusMessage();
                    if (message == null && resp.trailers().get("grpc-message") != null) {
                        message = URLDecoder.decode(resp.trailers().get("grpc-message"), StandardCharsets.UTF_8);
                    }
                    done.tryComplete(new Reply<>(resp.status(), message, List.copyOf(received)));
                });
            });
            send(req, requests);
        }));
        return done.future();
    }

    private static <Req, Resp> void send(GrpcClientRequest<Req, Resp> req, List<Req> requests) {
        for (int i = 0; i < requests.size() - 1; i++) req.write(requests.get(i));
        if (requests.isEmpty()) req.end();
        else req.end(requests.getLast());
    }

    /** Opens a call and leaves it to the caller (write, end, cancel, read); on this client's event loop. */
    <Req, Resp> GrpcClientRequest<Req, Resp> open(ServiceMethod<Resp, Req> method) {
        Promise<GrpcClientRequest<Req, Resp>> p = Promise.promise();
        vertx.runOnContext(v -> client.request(server, method).onComplete(p));
        return await(p.future());
    }

    Vertx vertx() {
        return vertx;
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        await(vertx.close());
    }
}
