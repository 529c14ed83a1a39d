package io.tandem.gateway.dispatch;

import io.tandem.gateway.api.ApiException;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.ArrayList;
import java.util.List;

/**
 * One worker's part of a generation: the per-request stream consumer, the credits, the stall timer and the control
 * messages back to that worker. A {@link GenerationStream} runs one attempt at a time and starts another when an
 * attempt ends with a {@link MigrationReason}. Lives on the event loop that created it; every method must be called
 * there.
 *
 * <p>Flow control: the worker may send {@code initialCredits} tokens plus every credit granted since. The HTTP side
 * grants only once tokens are written to a client that keeps up, so a slow client pauses the worker instead of
 * growing the gateway's memory.
 *
 * <p>Stalls: while the worker owes tokens it sends something at least every {@code keepaliveMillis} — tokens, or an
 * {@link StreamMessage.Alive} while the request waits in its queue or prefills and its engine makes progress. Only
 * silence for the whole stall timeout (a hung engine, a lost worker, a cut link) ends the attempt as stalled.
 */
final class WorkerAttempt {

    /** What an attempt reports to its generation, on the event loop. */
    interface Listener {
        void onTokens(int[] tokens, TokenLogprobs[] logprobs);

        /** The worker finished the sequence ({@code usage} null only after {@link #stopEarly} timed out). */
        void onFinished(FinishReason reason, Usage usage);

        /**
         * The attempt failed after the worker accepted. {@code migration} says why another worker may continue it, null
         * when no other worker would do better (an invalid request, an engine error).
         */
        void onFailed(ApiException error, MigrationReason migration);
    }

    private final Dispatcher dispatcher;
    private final String requestId;
    private final WorkerRecord worker;
    private final Context context;
    private final int promptBlocks;
    private Listener listener;
    private MessageConsumer<StreamMessage> consumer;
    /** Messages that overtook the worker's accept reply; replayed once it arrives. */
    private List<StreamMessage> early = new ArrayList<>();

    private long expectedSeq;
    private long received;
    private long granted;
    private int pendingGrant;
    private boolean started;
    private boolean done;
    private boolean stopping;
    private long idleTimer = -1;
    private long graceTimer = -1;
    /** Whether the router counts this attempt as in flight on its worker: from the routing decision to the end. */
    private boolean counted;
    /** Its TTFT as predicted when it was sent (NaN: none), and when that was. */
    private double predictedTtftMs = Double.NaN;
    private long sentNanos;

    WorkerAttempt(Dispatcher dispatcher, String requestId, WorkerRecord worker, int promptBlocks) {
        this.promptBlocks = promptBlocks;
        // counted from the decision, not the accept: requests routed meanwhile must see it (no herding)
        dispatcher.router.started(worker.workerId(), promptBlocks);
        this.counted = true;
        this.dispatcher = dispatcher;
        this.requestId = requestId;
        this.worker = worker;
        this.context = dispatcher.vertx.getOrCreateContext();
        this.granted = dispatcher.options.initialCredits();
    }

    /** The router's TTFT prediction for this attempt, sent at {@code sentNanos}. */
    void predicted(double ttftMs, long sentNanos) {
        this.predictedTtftMs = ttftMs;
        this.sentNanos = sentNanos;
    }

    /** The id the worker knows this attempt by. */
    String requestId() {
        return requestId;
    }

    WorkerRecord worker() {
        return worker;
    }

    long receivedTokens() {
        return received;
    }

    /** Tokens the worker may still send before it must wait for credit. */
    long workerCredits() {
        return granted - received;
    }

    boolean isDone() {
        return done;
    }

    Future<Void> open() {
        consumer = dispatcher.eventBus.consumer(Addresses.stream(requestId));
        consumer.handler(m -> onMessage(m.body()));
        return consumer.completion();
    }

    /** The worker accepted: from now on its messages go to {@code listener}. */
    void accepted(Listener listener) {
        this.listener = listener;
        started = true;
        armIdle();
        List<StreamMessage> overtaken = early;
        early = null;
        for (StreamMessage m : overtaken) onMessage(m);
    }

    /** The worker refused (or never answered): drop the consumer, no callbacks. */
    void refused() {
        done = true;
        uncount();
        unregister();
    }

    private void uncount() {
        if (!counted) return;
        counted = false;
        dispatcher.attemptEnded(this);
        dispatcher.router.ended(worker.workerId(), promptBlocks);
    }

    private void onMessage(StreamMessage message) {
        if (done) return;
        if (early != null) {
            early.add(message); // bounded: at most initialCredits tokens, keep-alives and one terminal
            return;
        }
        switch (message) {
            case StreamMessage.Tokens t -> {
                if (t.seq() != expectedSeq) {
                    sendCancel("token stream gap");
                    // what arrived before the gap is consistent: another worker can continue from there
                    fail(ApiException.internal("Lost tokens from the worker (expected message " + expectedSeq + ", got "
                            + t.seq() + ")"), MigrationReason.STREAM_GAP);
                    return;
                }
                expectedSeq++;
                if (received == 0 && t.tokens().length > 0) dispatcher.firstToken(this, sentNanos, predictedTtftMs);
                received += t.tokens().length;
                if (stopping) return;
                long arrived = System.nanoTime();
                armIdle();
                listener.onTokens(t.tokens(), t.logprobs());
                dispatcher.relayed(System.nanoTime() - arrived);
            }
            case StreamMessage.Alive a -> armIdle();
            case StreamMessage.Finished f -> {
                end();
                if (stopping) listener.onFinished(FinishReason.CANCELLED, f.usage());
                else if (f.reason() == FinishReason.CANCELLED) {
                    // the worker cancelled on its own: it is stopping, or it gave up on credit we did not grant
                    listener.onFailed(ApiException.unavailable("The worker cancelled the request",
                            dispatcher.options.retryAfterSeconds()), MigrationReason.WORKER_UNAVAILABLE);
                } else listener.onFinished(f.reason(), f.usage());
            }
            case StreamMessage.Failed f -> {
                end();
                if (stopping) listener.onFinished(FinishReason.CANCELLED, null);
                else listener.onFailed(toApi(f.code(), f.message()), MigrationReason.of(f.code()));
            }
        }
    }

    /** The client took {@code tokens} more tokens: let the worker send as many more. */
    void grant(int tokens) {
        if (done || stopping || tokens <= 0) return;
        pendingGrant += tokens;
        int batch = dispatcher.options.creditBatch();
        if (pendingGrant >= batch || workerCredits() < batch) {
            dispatcher.eventBus.send(worker.controlAddress(), new ControlMessage.Credit(requestId, pendingGrant));
            granted += pendingGrant;
            pendingGrant = 0;
            armIdle();
        }
    }

    /**
     * The gateway ended the text itself (a stop string): cancel the worker and wait briefly for its final usage; the
     * listener then gets {@code onFinished(CANCELLED, usage or null)}.
     */
    void stopEarly() {
        if (done || stopping) return;
        stopping = true;
        cancelTimer(idleTimer);
        sendCancel("stop string");
        graceTimer = dispatcher.vertx.setTimer(dispatcher.options.stopGraceMs(), id -> {
            if (done) return;
            end();
            listener.onFinished(FinishReason.CANCELLED, null);
        });
    }

    /** The client went away (or the request moves on): cancel on the worker, free everything, no callbacks. */
    void cancel(String reason) {
        if (done) return;
        sendCancel(reason);
        end();
    }

    /** The worker left the registry: it will never finish this attempt. */
    void workerLost(MigrationReason reason, String message) {
        context.runOnContext(v -> {
            if (done) return;
            if (!started) return; // still waiting for the accept: the dispatcher fails that wait itself
            // best effort: a worker that only lost its lease (a cut link, a long pause) is still generating, and with
            // no credit left it would not learn that nobody listens before its stall timeout
            sendCancel("the worker left the registry");
            fail(ApiException.unavailable(message, dispatcher.options.retryAfterSeconds()), reason);
        });
    }

    private void fail(ApiException error, MigrationReason reason) {
        end();
        listener.onFailed(error, reason);
    }

    private void armIdle() {
        cancelTimer(idleTimer);
        idleTimer = -1;
        if (done || stopping || workerCredits() <= 0) return; // the worker owes nothing: silence is expected
        long timeout = dispatcher.options.idleTimeoutMs();
        idleTimer = dispatcher.vertx.setTimer(timeout, id -> {
            if (done) return;
            sendCancel("stream stalled");
            fail(ApiException.timeout("The worker sent nothing, not even a keep-alive, for " + timeout
                    + " ms; the request was cancelled"), MigrationReason.STALLED);
        });
    }

    private void sendCancel(String reason) {
        dispatcher.eventBus.send(worker.controlAddress(), new ControlMessage.Cancel(requestId, reason));
    }

    private void end() {
        if (done) return;
        done = true;
        cancelTimer(idleTimer);
        cancelTimer(graceTimer);
        unregister();
        uncount();
    }

    private void unregister() {
        if (consumer != null) consumer.unregister();
    }

    private void cancelTimer(long id) {
        if (id >= 0) dispatcher.vertx.cancelTimer(id);
    }

    private ApiException toApi(ErrorCode code, String message) {
        String msg = message == null ? code.name() : message;
        return switch (code) {
            case INVALID_REQUEST -> ApiException.invalid(null, msg);
            case OVERLOADED -> ApiException.overloaded(msg, dispatcher.options.retryAfterSeconds());
            case UNAVAILABLE, DRAINING, MODEL_NOT_FOUND, PEER_REFUSED -> ApiException.unavailable(msg, dispatcher.options.retryAfterSeconds());
            case INTERNAL -> ApiException.internal(msg);
        };
    }
}
