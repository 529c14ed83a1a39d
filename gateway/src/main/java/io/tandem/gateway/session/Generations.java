package io.tandem.gateway.session;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.preprocess.PreparedRequest;
import io.tandem.gateway.preprocess.Preprocessor;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.tracing.RequestTrace;
import io.tandem.worker.tracing.ServiceTracer;
import io.tandem.worker.tracing.Tracing;
import io.vertx.core.Vertx;

import java.util.function.UnaryOperator;

/**
 * Starts a validated request's generation, the same way for every API: preprocess (template, tokenize; off the event
 * loop unless cheap), then {@link Dispatcher#start} with the session as the stream's listener. A failure at any step
 * reaches the session's {@link GenerationSession#fail}. Call on the dispatcher's event loop.
 */
public final class Generations {

    private static final System.Logger log = System.getLogger(Generations.class.getName());

    private final Vertx vertx;
    private final Dispatcher dispatcher;
    private final ServiceTracer tracer;

    public Generations(Vertx vertx, Dispatcher dispatcher) {
        this.vertx = vertx;
        this.dispatcher = dispatcher;
        this.tracer = Tracing.of(vertx).tracer(Tracing.GATEWAY_SERVICE);
    }

    public Dispatcher dispatcher() {
        return dispatcher;
    }

    /**
     * @param receivedNanos when the request arrived ({@link System#nanoTime()})
     */
    public void start(CompletionRequest request, ServedModel model, String id, long receivedNanos, GenerationSession session) {
        start(request, model, id, receivedNanos, session, UnaryOperator.identity());
    }

    /**
     * As {@link #start(CompletionRequest, ServedModel, String, long, GenerationSession)}, with {@code adjust} applied
     * to the prepared request before it is dispatched (it may throw an {@link ApiException}).
     */
    public void start(CompletionRequest request, ServedModel model, String id, long receivedNanos, GenerationSession session,
                      UnaryOperator<PreparedRequest> adjust) {
        RequestTrace trace = tracer.enabled() ? RequestTrace.start(tracer, id, model.name(),
                request.endpoint().name().toLowerCase(java.util.Locale.ROOT), receivedNanos) : null;
        if (trace != null) session.traced(trace);
        if (Preprocessor.isCheap(request)) {
            // two thread hand-offs cost more than the work itself, and on busy cores each waits for a core
            PreparedRequest prepared;
            try {
                prepared = adjust.apply(prepare(request, model, trace));
            } catch (RuntimeException err) {
                session.fail(asApi(err));
                return;
            }
            dispatch(request, session, id, model, prepared, receivedNanos, trace);
            return;
        }
        vertx.executeBlocking(() -> adjust.apply(prepare(request, model, trace)), false)
                .onSuccess(prepared -> dispatch(request, session, id, model, prepared, receivedNanos, trace))
                .onFailure(err -> session.fail(asApi(err)));
    }

    private static PreparedRequest prepare(CompletionRequest request, ServedModel model, RequestTrace trace) {
        if (trace == null) return Preprocessor.prepare(request, model);
        long start = System.nanoTime();
        long[] templated = {-1};
        PreparedRequest prepared = null;
        try {
            return prepared = Preprocessor.prepare(request, model, t -> templated[0] = t);
        } finally {
            trace.preprocessed(start, templated[0], System.nanoTime(), prepared == null ? -1 : prepared.promptTokens().length);
        }
    }

    private void dispatch(CompletionRequest request, GenerationSession session, String id, ServedModel model,
                          PreparedRequest prepared, long receivedNanos, RequestTrace trace) {
        if (session.isFinished()) return; // the client left while we tokenized
        session.prepared(prepared.promptTokens().length);
        GenerationStream stream;
        // the dispatcher takes the request's trace context from the current one (Context.current(), this thread)
        try (var scope = trace == null ? null : trace.context().makeCurrent()) {
            stream = dispatcher.start(id, model.name(), prepared.promptTokens(), prepared.sampling(),
                    request.priority(), receivedNanos, session.slo(), session);
        }
        session.dispatched(stream);
        stream.acceptance().onFailure(err -> session.fail(asApi(err)));
    }

    /** {@code err} as the client should see it: an {@link ApiException} as is, anything else a logged 500. */
    public static ApiException asApi(Throwable err) {
        if (err instanceof ApiException api) return api;
        log.log(System.Logger.Level.ERROR, "unexpected failure while serving a generation", err);
        return ApiException.internal("Internal error: " + err.getClass().getSimpleName());
    }
}
