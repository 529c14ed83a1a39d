package io.tandem.gateway.session;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.preprocess.PreparedRequest;
import io.tandem.gateway.preprocess.Preprocessor;
import io.tandem.gateway.preprocess.ServedModel;
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

    public Generations(Vertx vertx, Dispatcher dispatcher) {
        this.vertx = vertx;
        this.dispatcher = dispatcher;
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
        if (Preprocessor.isCheap(request)) {
            // two thread hand-offs cost more than the work itself, and on busy cores each waits for a core
            PreparedRequest prepared;
            try {
                prepared = adjust.apply(Preprocessor.prepare(request, model));
            } catch (RuntimeException err) {
                session.fail(asApi(err));
                return;
            }
            dispatch(request, session, id, model, prepared, receivedNanos);
            return;
        }
        vertx.executeBlocking(() -> adjust.apply(Preprocessor.prepare(request, model)), false)
                .onSuccess(prepared -> dispatch(request, session, id, model, prepared, receivedNanos))
                .onFailure(err -> session.fail(asApi(err)));
    }

    private void dispatch(CompletionRequest request, GenerationSession session, String id, ServedModel model,
                          PreparedRequest prepared, long receivedNanos) {
        if (session.isFinished()) return; // the client left while we tokenized
        session.prepared(prepared.promptTokens().length);
        GenerationStream stream = dispatcher.start(id, model.name(), prepared.promptTokens(), prepared.sampling(),
                request.priority(), receivedNanos, session);
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
