package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * One gRPC call as the gateway serves it: it ends exactly once — with a status, or because the client went away
 * (cancelled the call, reset the stream or dropped the connection), which runs the {@link #onClientGone} actions so
 * that generations are cancelled on their workers. A client's deadline ({@code grpc-timeout}) ends it with
 * DEADLINE_EXCEEDED and cancels its generations the same way. Its method's metrics are recorded at that end. On the
 * call's event loop.
 */
final class GrpcCall<Req, Resp> {

    private final GrpcServerRequest<Req, Resp> request;
    private final GatewayMetrics metrics;
    private final long startNanos = System.nanoTime();
    private final List<Runnable> onGone = new ArrayList<>();
    private final List<Runnable> onEnd = new ArrayList<>();
    private boolean ended;

    GrpcCall(GrpcServerRequest<Req, Resp> request, GatewayMetrics metrics) {
        this.request = request;
        this.metrics = metrics;
        // a client's RST_STREAM arrives as an error, a lost connection as an exception, on either side of the call
        request.errorHandler(error -> gone());
        request.response().exceptionHandler(err -> gone());
        request.exceptionHandler(err -> gone());
        long timeoutMs = request.timeout(); // the client's grpc-timeout, 0 without one
        if (timeoutMs > 0) {
            Vertx vertx = Vertx.currentContext().owner();
            long timer = vertx.setTimer(timeoutMs, t -> abort(GrpcStatus.DEADLINE_EXCEEDED,
                    "the call's deadline (grpc-timeout " + timeoutMs + " ms) passed before it finished"));
            onEnd(() -> vertx.cancelTimer(timer));
        }
    }

    GrpcServerRequest<Req, Resp> request() {
        return request;
    }

    /** The full method name, e.g. {@code inference.GRPCInferenceService/ModelInfer}. */
    String method() {
        return request.fullMethodName();
    }

    boolean isOpen() {
        return !ended;
    }

    /** Runs {@code action} if the client goes away before the call ended. */
    void onClientGone(Runnable action) {
        onGone.add(action);
    }

    /** Runs {@code action} when the call ends, however it ends. */
    void onEnd(Runnable action) {
        onEnd.add(action);
    }

    /**
     * Handles each request message with {@code handler}; an {@link ApiException} it throws ends the call with its
     * status, any other exception with INTERNAL.
     */
    void onMessage(Handler<Req> handler) {
        request.handler(message -> {
            if (ended) return;
            try {
                handler.handle(message);
            } catch (ApiException e) {
                fail(e);
            } catch (RuntimeException e) {
                fail(io.tandem.gateway.session.Generations.asApi(e));
            }
        });
    }

    GrpcServerResponse<Req, Resp> response() {
        return request.response();
    }

    /** Sends one message of a streamed response (nothing once the call ended). */
    void write(Resp message) {
        if (!ended) request.response().write(message);
    }

    /** Ends the call with its (last) message and OK. */
    void reply(Resp message) {
        if (end(GrpcStatus.OK)) request.response().end(message);
    }

    /** Ends a streamed response with OK. */
    void finish() {
        if (end(GrpcStatus.OK)) request.response().end();
    }

    void fail(ApiException e) {
        fail(GrpcErrors.status(e), e.getMessage());
    }

    void fail(GrpcStatus status, String message) {
        if (end(status)) request.response().status(status).statusMessage(message).end();
    }

    /** Ends the call with {@code status} and abandons its work, as if its client had gone (the drain's last resort). */
    void abort(GrpcStatus status, String message) {
        fail(status, message);
        onGone.forEach(Runnable::run);
    }

    private void gone() {
        if (!end(GrpcStatus.CANCELLED)) return;
        onGone.forEach(Runnable::run);
    }

    private boolean end(GrpcStatus status) {
        if (ended) return false;
        ended = true;
        metrics.grpcCall(method(), status.name(), System.nanoTime() - startNanos);
        onEnd.forEach(Runnable::run);
        return true;
    }
}
