package io.tandem.worker.stream;

import io.tandem.engine.Engine;
import io.tandem.engine.TokenSink;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.Usage;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageProducer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.util.List;

/**
 * One request's way back to the gateway, on the worker's context: engine tokens go through a
 * {@link TokenOutbox} to the stream address, never more than the credit granted; the engine is
 * paused while credit is exhausted and resumed on new credit ({@link CreditGate}); exactly one terminal message goes
 * last. A consumer that is gone (no handler at the address) or grants no credit for the stall
 * timeout gets its request cancelled, so nothing stays held for it.
 */
public final class RequestStream {

    /** Told what the stream did; runs on the worker's context. */
    public interface Listener {
        void onTokensProduced(int count);

        /** The stream ended; {@code outcome} is stop, length, cancelled or failed. */
        void onEnd(RequestStream stream, String outcome, Usage usage);
    }

    private static final System.Logger LOG = System.getLogger(RequestStream.class.getName());

    private final String requestId;
    private final Engine engine;
    private final MessageProducer<StreamMessage> out;
    private final TokenOutbox outbox;
    private final CreditGate gate;
    private final Vertx vertx;
    private final long stallTimeoutMillis;
    private final Listener listener;

    private long keepaliveNanos;
    private long lastSentNanos = System.nanoTime();
    private StreamMessage.Finished pendingFinish;
    private boolean ended;
    private boolean consumerGone;
    private long stallTimer = -1;

    public RequestStream(String requestId, int initialCredits, int outboxCapacity, Engine engine,
                         MessageProducer<StreamMessage> out, Vertx vertx, long stallTimeoutMillis, Listener listener) {
        this.requestId = requestId;
        this.engine = engine;
        this.out = out;
        this.outbox = new TokenOutbox(initialCredits, outboxCapacity);
        this.gate = new CreditGate(engine, requestId, initialCredits);
        this.vertx = vertx;
        this.stallTimeoutMillis = stallTimeoutMillis;
        this.listener = listener;
    }

    public String requestId() {
        return requestId;
    }

    /** The keep-alive interval, 0 when off. */
    public long keepaliveNanos() {
        return keepaliveNanos;
    }

    public boolean ended() {
        return ended;
    }

    /**
     * Asks for keep-alives: while the stream owes tokens (it has credit) and sent nothing for {@code millis}, each
     * {@link #keepAlive} call sends a {@link StreamMessage.Alive}. 0 turns them off.
     */
    public void keepAliveEvery(long millis) {
        this.keepaliveNanos = millis * 1_000_000L;
    }

    /**
     * Tells the gateway the request is alive if it is due and {@code engineProgressing}: a request waiting in the
     * engine's queue or prefilling is alive, one held by a hung engine is not (its silence lets the gateway migrate it).
     */
    public void keepAlive(long nowNanos, boolean engineProgressing) {
        if (ended || keepaliveNanos <= 0 || !engineProgressing || outbox.exhausted()) return;
        if (nowNanos - lastSentNanos >= keepaliveNanos) send(new StreamMessage.Alive(requestId));
    }

    /** What to submit to the engine with the request: hops its callbacks onto {@code context}, the worker's. */
    public TokenSink engineSink(Context context) {
        return new ContextSink(context, gate, this::onEngineEvents);
    }

    /** Call once the engine took the request: pauses it at once if there is no initial credit. */
    public void start() {
        gate.start();
        flush();
    }

    /** A batch of engine callbacks, in order (see {@link ContextSink}). */
    public void onEngineEvents(List<EngineEvent> events) {
        int produced = 0;
        for (EngineEvent e : events) {
            if (ended) return;
            switch (e) {
                case EngineEvent.Token t -> {
                    if (outbox.add(t.token(), t.logprobs())) {
                        produced++;
                    } else {
                        overflow();
                    }
                }
                case EngineEvent.Finished f -> finished(f.reason(), f.usage());
                case EngineEvent.Failed f -> failed(f.code(), f.message());
            }
        }
        if (produced > 0) listener.onTokensProduced(produced);
        if (!ended) flush();
    }

    /** The consumer granted {@code tokens} more. */
    public void onCredit(int tokens) {
        if (ended) return;
        outbox.grant(tokens);
        gate.granted(tokens);
        flush();
    }

    /** The gateway asked to stop; the engine's cancelled callback ends the stream. */
    public void cancel(String reason) {
        if (ended) return;
        LOG.log(System.Logger.Level.DEBUG, () -> "cancelling " + requestId + ": " + reason);
        if (pendingFinish != null) {
            outbox.discard();
            send(new StreamMessage.Finished(requestId, FinishReason.CANCELLED, pendingFinish.usage()));
            end(FinishReason.CANCELLED.openAiName(), pendingFinish.usage());
        } else {
            engine.cancel(requestId);
        }
    }

    /** Ends the stream now with a failure (the worker is going away) and frees the engine's request. */
    public void abort(ErrorCode code, String message) {
        if (ended) return;
        engine.cancel(requestId);
        outbox.discard();
        send(new StreamMessage.Failed(requestId, code, message));
        end("failed", pendingFinish == null ? null : pendingFinish.usage());
    }

    private void finished(FinishReason reason, Usage usage) {
        if (reason == FinishReason.CANCELLED) {
            outbox.discard(); // the consumer asked to stop or is gone: undelivered tokens are moot
            send(new StreamMessage.Finished(requestId, reason, usage));
            end(reason.openAiName(), usage);
        } else {
            pendingFinish = new StreamMessage.Finished(requestId, reason, usage); // sent after the last token
        }
    }

    private void failed(ErrorCode code, String message) {
        StreamMessage.Tokens t = outbox.take(requestId); // what the credit still allows goes first
        if (t != null) send(t);
        outbox.discard();
        send(new StreamMessage.Failed(requestId, code, message));
        end("failed", null);
    }

    private void overflow() {
        LOG.log(System.Logger.Level.ERROR, "engine kept producing for paused request " + requestId
                + " beyond the outbox of " + outbox.capacity() + " tokens; failing it");
        engine.cancel(requestId);
        failed(ErrorCode.INTERNAL, "the engine ignored flow control");
    }

    private void flush() {
        StreamMessage.Tokens t = outbox.take(requestId);
        if (t != null) send(t);
        if (pendingFinish != null && outbox.pending() == 0) {
            send(pendingFinish);
            end(pendingFinish.reason().openAiName(), pendingFinish.usage());
            return;
        }
        watchStall();
    }

    /** Runs the stall timer exactly while the stream waits for credit. */
    private void watchStall() {
        boolean waiting = outbox.exhausted();
        if (waiting && stallTimer < 0) {
            stallTimer = vertx.setTimer(stallTimeoutMillis, id -> {
                stallTimer = -1;
                if (!ended) cancel("no credit for " + stallTimeoutMillis + " ms");
            });
        } else if (!waiting && stallTimer >= 0) {
            vertx.cancelTimer(stallTimer);
            stallTimer = -1;
        }
    }

    private void send(StreamMessage m) {
        if (consumerGone) return;
        lastSentNanos = System.nanoTime();
        out.write(m).onFailure(this::sendFailed);
    }

    private void sendFailed(Throwable e) {
        if (e instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
            if (consumerGone) return;
            consumerGone = true;
            cancel("no consumer at " + out.address());
        } else {
            LOG.log(System.Logger.Level.WARNING, "sending on the stream of " + requestId + " failed", e);
        }
    }

    private void end(String outcome, Usage usage) {
        ended = true;
        if (stallTimer >= 0) {
            vertx.cancelTimer(stallTimer);
            stallTimer = -1;
        }
        listener.onEnd(this, outcome, usage);
    }
}
