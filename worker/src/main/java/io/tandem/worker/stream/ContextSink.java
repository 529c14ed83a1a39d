package io.tandem.worker.stream;

import io.tandem.engine.TokenSink;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A {@link TokenSink} that moves engine callbacks onto a Vert.x context. Events queue up on the
 * engine thread and one context task drains all that arrived meanwhile, so the tokens of one
 * engine step (or of several, when the event loop lags) reach the handler as one batch — and
 * one event-bus message. Each token is counted against the stream's {@link CreditGate} right
 * here on the engine thread, which pauses the engine as soon as the credit is spent.
 */
public final class ContextSink implements TokenSink {
    private final Context context;
    private final CreditGate gate;
    private final Consumer<List<EngineEvent>> handler;
    private final ConcurrentLinkedQueue<EngineEvent> queue = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();

    public ContextSink(Context context, CreditGate gate, Consumer<List<EngineEvent>> handler) {
        this.context = context;
        this.gate = gate;
        this.handler = handler;
    }

    @Override
    public void onToken(int token, TokenLogprobs logprobs) {
        gate.produced();
        offer(new EngineEvent.Token(token, logprobs));
    }

    @Override
    public void onFinished(FinishReason reason, Usage usage) {
        offer(new EngineEvent.Finished(reason, usage));
    }

    @Override
    public void onFailed(ErrorCode code, String message) {
        offer(new EngineEvent.Failed(code, message));
    }

    private void offer(EngineEvent event) {
        queue.add(event);
        if (scheduled.compareAndSet(false, true)) context.runOnContext(v -> drain());
    }

    private void drain() {
        scheduled.set(false); // events offered from here on schedule another drain
        List<EngineEvent> batch = new ArrayList<>();
        EngineEvent e;
        while ((e = queue.poll()) != null) batch.add(e);
        if (!batch.isEmpty()) handler.accept(batch);
    }
}
