package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.ApiKeys;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.server.GrpcServerRequest;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What every gRPC call of the gateway goes through before its method runs: the API key ({@code authorization}
 * metadata), the message size limit (RESOURCE_EXHAUSTED with a message that names the option), and the graceful stop:
 * inference calls in flight are counted; once {@link #beginDrain draining}, new ones get UNAVAILABLE and the drain
 * tells when the last one ended; at the drain timeout {@link #endAll} ends those still open. On the gateway's event
 * loop.
 */
final class GrpcCalls {

    /** Who may call a method. */
    enum Access {
        /** Health and reflection: anyone (a load balancer's probe has no key). */
        OPEN,
        /** Model metadata: with a key when keys are configured. */
        KEYED,
        /** Generations: with a key, counted in flight, refused while draining. */
        INFERENCE
    }

    private final GatewayMetrics metrics;
    private final ApiKeys keys;
    private final long maxMessageBytes;
    private final Set<GrpcCall<?, ?>> inFlight = new LinkedHashSet<>();
    /** Volatile: {@link #refuseNew} sets it from whichever thread starts the drain. */
    private volatile boolean draining;
    private Promise<Void> idle;

    GrpcCalls(GatewayMetrics metrics, ApiKeys keys, long maxMessageBytes) {
        this.metrics = metrics;
        this.keys = keys;
        this.maxMessageBytes = maxMessageBytes;
    }

    GatewayMetrics metrics() {
        return metrics;
    }

    /** A call handler: the checks of {@code access}, then {@code method} with the call. */
    <Req, Resp> Handler<GrpcServerRequest<Req, Resp>> handler(Access access, Consumer<GrpcCall<Req, Resp>> method) {
        return request -> {
            GrpcCall<Req, Resp> call = new GrpcCall<>(request, metrics);
            request.invalidMessageHandler(invalid -> {
                if (invalid instanceof MessageSizeOverflowException) {
                    call.fail(GrpcStatus.RESOURCE_EXHAUSTED, "The request message is larger than the limit of "
                            + maxMessageBytes + " bytes (--grpc-max-message-bytes)");
                } else {
                    call.fail(GrpcStatus.INVALID_ARGUMENT, "The request message cannot be decoded: " + invalid.getMessage());
                }
            });
            try {
                if (access != Access.OPEN) {
                    keys.check(request.headers().get("authorization"), "the metadata 'authorization: Bearer <key>'");
                }
                if (access == Access.INFERENCE) {
                    if (draining) throw refusal();
                    inFlight.add(call);
                    call.onEnd(() -> ended(call));
                }
                method.accept(call);
            } catch (ApiException e) {
                call.fail(e);
            }
        };
    }

    /** The handler of every method no service implements: UNIMPLEMENTED, counted as method "other". */
    Handler<GrpcServerRequest<io.vertx.core.buffer.Buffer, io.vertx.core.buffer.Buffer>> unimplemented() {
        return request -> {
            String method = request.fullMethodName();
            long start = System.nanoTime();
            request.response().status(GrpcStatus.UNIMPLEMENTED).statusMessage("Method not implemented by Tandem: " + method).end();
            metrics.grpcCall("other", GrpcStatus.UNIMPLEMENTED.name(), System.nanoTime() - start);
        };
    }

    boolean draining() {
        return draining;
    }

    /** Inference calls being served now. */
    int inFlight() {
        return inFlight.size();
    }

    /** As {@link io.tandem.gateway.http.HttpDrain#refuseNew}: refuse new inference calls from now on, from any thread. */
    void refuseNew() {
        draining = true;
    }

    /** Refuse new inference calls from now on; completes once none is in flight (at once when none is). */
    Future<Void> beginDrain() {
        if (idle == null) {
            draining = true;
            idle = Promise.promise();
            if (inFlight.isEmpty()) idle.complete();
        }
        return idle.future();
    }

    /** Ends every inference call still open with UNAVAILABLE (their generations were cancelled); returns how many. */
    int endAll() {
        List<GrpcCall<?, ?>> open = List.copyOf(inFlight);
        for (GrpcCall<?, ?> call : open) {
            call.abort(GrpcStatus.UNAVAILABLE, "The gateway shut down before this request finished; retry it");
        }
        return open.size();
    }

    /** What a draining gateway answers a new inference call (and a new request on an open stream). */
    static ApiException refusal() {
        return ApiException.unavailable("This gateway is shutting down and takes no new requests; retry, another "
                + "instance serves it", 0);
    }

    private void ended(GrpcCall<?, ?> call) {
        inFlight.remove(call);
        if (draining && inFlight.isEmpty()) idle.tryComplete();
    }
}
