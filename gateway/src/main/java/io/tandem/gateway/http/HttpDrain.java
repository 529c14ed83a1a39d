package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The HTTP side of a gateway's graceful stop: counts the completion requests in flight (streamed or not, from arrival
 * to the response's end or the client's disconnect); once {@link #begin draining}, refuses new ones with 503,
 * {@code Retry-After} and {@code Connection: close} (the client retries and reconnects, to another gateway behind a
 * load balancer) and tells when the last one in flight has ended; at the drain timeout it ends those still open with an
 * error ({@link #endAll}). On the gateway's event loop.
 */
public final class HttpDrain {
    private final int retryAfterSeconds;
    private final Set<RoutingContext> inFlight = new LinkedHashSet<>();
    /** Volatile: {@link #refuseNew} sets it from whichever thread starts the drain. */
    private volatile boolean draining;
    private Promise<Void> idle;

    public HttpDrain(int retryAfterSeconds) {
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public boolean draining() {
        return draining;
    }

    /** Completion requests being served now. */
    public int inFlight() {
        return inFlight.size();
    }

    /**
     * Refuse new completion requests from now on, from any thread: requests that arrive after a drain was asked for
     * are refused even when their I/O reaches the event loop before the drain's own task does.
     */
    public void refuseNew() {
        draining = true;
    }

    /** Refuse new completion requests from now on; completes once none is in flight (at once when none is). */
    public Future<Void> begin() {
        if (idle == null) {
            draining = true;
            idle = Promise.promise();
            if (inFlight.isEmpty()) idle.complete();
        }
        return idle.future();
    }

    /** The 503 a draining gateway answers (for completions and {@code /ready}). */
    ApiException refusal() {
        return new ApiException(503, "service_unavailable", "This gateway is shutting down and takes no new requests; "
                + "retry, another instance serves it", null, "draining", retryAfterSeconds);
    }

    /**
     * Ends every response still open with a 503 "shut down" error (a stream: an error event, then {@code [DONE]}), after
     * their generations were cancelled; returns how many.
     */
    public int endAll() {
        List<RoutingContext> open = List.copyOf(inFlight);
        ApiException error = ApiException.unavailable("The gateway shut down before this request finished; retry it",
                retryAfterSeconds);
        for (RoutingContext ctx : open) {
            if (!ctx.response().headWritten()) ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
            Errors.send(ctx.response(), error);
        }
        return open.size();
    }

    /** The route handler in front of the completion endpoints. */
    Handler<RoutingContext> guard() {
        return ctx -> {
            if (draining) {
                ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
                ctx.fail(refusal());
                return;
            }
            inFlight.add(ctx);
            ctx.addEndHandler(ar -> {
                inFlight.remove(ctx);
                if (draining && inFlight.isEmpty()) idle.tryComplete();
            });
            ctx.next();
        };
    }
}
