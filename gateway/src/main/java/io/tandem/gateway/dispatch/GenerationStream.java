package io.tandem.gateway.dispatch;

import io.tandem.gateway.api.ApiException;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.WorkerRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.ArrayList;
import java.util.List;

/**
 * The gateway's side of one generation on one worker: the per-request stream consumer, the
 * credits, the timers, and the control messages back to the worker. Lives on the event loop
 * that created it; every method must be called there.
 *
 * <p>Flow control: the worker may send {@code initialCredits} tokens plus every credit granted
 * since. The HTTP side calls {@link #grant} only once tokens are written to a client that keeps
 * up, so a slow client pauses the worker instead of growing the gateway's memory.
 */
public final class GenerationStream {

    private final Dispatcher dispatcher;
    private final String requestId;
    private final WorkerRecord worker;
    private final StreamListener listener;
    private final Context context;
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

    private final int promptBlocks;

    /** Whether the router counts this request as in flight on its worker: from the routing decision to the end. */
    private boolean counted;

    GenerationStream(Dispatcher dispatcher, String requestId, WorkerRecord worker, StreamListener listener, int promptBlocks) {
        this.promptBlocks = promptBlocks;
        // counted from the decision, not the accept: requests routed meanwhile must see it (no herding)
        dispatcher.router.started(worker.workerId(), promptBlocks);
        this.counted = true;
        this.dispatcher = dispatcher;
        this.requestId = requestId;
        this.worker = worker;
        this.listener = listener;
        this.context = dispatcher.vertx.getOrCreateContext();
        this.granted = dispatcher.options.initialCredits();
    }

    public String requestId() {
        return requestId;
    }

    public String workerId() {
        return worker.workerId();
    }

    /** Tokens received from the worker so far. */
    public long receivedTokens() {
        return received;
    }

    /** Tokens the worker may still send before it must wait for credit. */
    public long workerCredits() {
        return granted - received;
    }

    public boolean isDone() {
        return done;
    }

    Future<Void> open() {
        consumer = dispatcher.eventBus.consumer(Addresses.stream(requestId));
        consumer.handler(m -> onMessage(m.body()));
        return consumer.completion();
    }

    void accepted() {
        started = true;
        dispatcher.track(this);
        listener.onAccepted(this);
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
        dispatcher.router.ended(worker.workerId(), promptBlocks);
    }

    private void onMessage(StreamMessage message) {
        if (done) return;
        if (early != null) {
            early.add(message); // bounded: at most initialCredits tokens and one terminal
            return;
        }
        switch (message) {
            case StreamMessage.Tokens t -> {
                if (t.seq() != expectedSeq) {
                    sendCancel("token stream gap");
                    fail(ApiException.internal("Lost tokens from the worker (expected message " + expectedSeq + ", got " + t.seq() + ")"));
                    return;
                }
                expectedSeq++;
                received += t.tokens().length;
                if (stopping) return;
                armIdle();
                listener.onTokens(t.tokens(), t.logprobs());
            }
            case StreamMessage.Alive a -> armIdle();
            case StreamMessage.Finished f -> {
                end();
                listener.onFinished(f.reason(), f.usage());
            }
            case StreamMessage.Failed f -> {
                end();
                if (stopping) listener.onFinished(FinishReason.CANCELLED, null);
                else listener.onFailed(toApi(f.code(), f.message()));
            }
        }
    }

    /** The client took {@code tokens} more tokens: let the worker send as many more. */
    public void grant(int tokens) {
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
     * The gateway ended the text itself (a stop string): cancel the worker and wait briefly for
     * its final usage; the listener then gets {@code onFinished} (usage null if it did not come).
     */
    public void stopEarly() {
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

    /** The client went away (or the gateway stops): cancel on the worker, free everything, no callbacks. */
    public void cancel(String reason) {
        if (done) return;
        sendCancel(reason);
        end();
    }

    void workerLost(String message) {
        context.runOnContext(v -> {
            if (done) return;
            fail(ApiException.unavailable(message, dispatcher.options.retryAfterSeconds()));
        });
    }

    private void fail(ApiException error) {
        end();
        listener.onFailed(error);
    }

    private void armIdle() {
        cancelTimer(idleTimer);
        idleTimer = -1;
        if (done || stopping || workerCredits() <= 0) return; // the worker owes nothing: silence is expected
        long timeout = dispatcher.options.idleTimeoutMs();
        idleTimer = dispatcher.vertx.setTimer(timeout, id -> {
            if (done) return;
            sendCancel("stream idle timeout");
            fail(ApiException.timeout("The worker sent nothing for " + timeout + " ms; the request was cancelled"));
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
        if (started) dispatcher.untrack(this);
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
