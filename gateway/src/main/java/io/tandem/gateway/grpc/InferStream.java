package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * One {@code ModelStreamInfer} call: the client may send several requests on it; each runs as its own
 * {@link InferSession} whose responses (carrying the request's id) interleave on the stream, and a request that fails
 * gets a response with {@code error_message} while the stream goes on, as Triton does. The call ends with OK once the
 * client closed its side and every request finished; a client that goes away cancels them all. Flow control: one
 * write queue for the whole stream, so every request's credits wait while it is full.
 */
final class InferStream {

    private final GrpcCall<ModelInferRequest, ModelStreamInferResponse> call;
    private final Set<InferSession> running = new LinkedHashSet<>();
    private final List<Runnable> drainWaiters = new ArrayList<>();
    private boolean inputEnded;

    InferStream(GrpcCall<ModelInferRequest, ModelStreamInferResponse> call) {
        this.call = call;
        call.onClientGone(() -> List.copyOf(running).forEach(InferSession::clientGone));
        call.request().endHandler(v -> {
            inputEnded = true;
            endIfDone();
        });
        call.response().drainHandler(v -> {
            List<Runnable> waiting = List.copyOf(drainWaiters);
            drainWaiters.clear();
            waiting.forEach(Runnable::run);
        });
    }

    /**
     * Adds a request to the stream: {@code create} makes its session around the sink that writes to this stream. The
     * session is running from now on (until it completes or fails, even at once).
     */
    InferSession add(String model, String id, Function<InferSession.Sink, InferSession> create) {
        InferSession[] self = new InferSession[1];
        self[0] = create.apply(sink(model, id, self));
        running.add(self[0]);
        return self[0];
    }

    private InferSession.Sink sink(String model, String id, InferSession[] session) {
        return new InferSession.Sink() {
            @Override
            public void piece(String text) {
                call.write(InferResponses.streamed(InferResponses.piece(model, id, text)));
            }

            @Override
            public void end(String text, FinishReason finish, Usage usage) {
                call.write(InferResponses.streamed(InferResponses.last(model, id, text, finish, usage, true)));
                ended(session[0]);
            }

            @Override
            public void error(ApiException error) {
                requestFailed(model, id, error);
                ended(session[0]);
            }

            @Override
            public boolean full() {
                return call.response().writeQueueFull();
            }

            @Override
            public void whenDrained(Runnable action) {
                drainWaiters.add(action);
            }
        };
    }

    /** A request of the stream failed before or while it ran: an {@code error_message} response, the stream goes on. */
    void requestFailed(String model, String id, ApiException error) {
        call.write(InferResponses.streamError(model, id, error.getMessage()));
    }

    private void ended(InferSession session) {
        if (session != null) running.remove(session);
        endIfDone();
    }

    private void endIfDone() {
        if (inputEnded && running.isEmpty()) call.finish();
    }
}
