package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.session.GenerationSession;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.vertx.core.Vertx;

/**
 * One KServe generation: its text as detokenized pieces when it streams, else whole at the end, handed to a
 * {@link Sink}. While the sink's client is behind, the worker's credits wait, so the worker pauses instead of the
 * gateway buffering (as {@code /v1/completions} streams do).
 */
final class InferSession extends GenerationSession {

    /** Where the text goes: a unary reply or a stream's responses. */
    interface Sink {
        /** A piece of text in the middle of a stream. */
        void piece(String text);

        /** The end: the last piece of a stream, or the whole text; how it finished and its token counts. */
        void end(String text, FinishReason finish, Usage usage);

        /** The request failed. */
        void error(ApiException error);

        /** Whether the client is behind (its write queue is full). */
        boolean full();

        /** Runs {@code action} once the client caught up. */
        void whenDrained(Runnable action);
    }

    private final boolean streaming;
    private final Sink sink;
    private final StringBuilder whole = new StringBuilder();

    InferSession(Vertx vertx, CompletionRequest request, ServedModel model, GatewayMetrics metrics, long maxRequestMillis,
                 boolean streaming, Sink sink) {
        super(vertx, GenerationSession.outputText(request, model), metrics, maxRequestMillis);
        this.streaming = streaming;
        this.sink = sink;
    }

    @Override
    protected void accepted() {
    }

    @Override
    protected void emit(String text, int[] tokens, int consumed) {
        if (!streaming) {
            whole.append(text);
            stream.grant(tokens.length);
            return;
        }
        if (!text.isEmpty()) sink.piece(text);
        grantAfterWrite(tokens.length, sink.full(), sink::whenDrained);
    }

    @Override
    protected void complete(String tail, FinishReason finishReason, Usage usage) {
        sink.end(streaming ? tail : whole.append(tail).toString(), finishReason, usage);
    }

    @Override
    protected void sendError(ApiException error) {
        sink.error(error);
    }
}
