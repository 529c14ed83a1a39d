package io.tandem.worker;

import io.tandem.transfer.Await;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.StreamMessage;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's side of one token stream, for tests: consumes the stream address, checks the
 * protocol (seq without gaps, nothing after the one terminal message, never more tokens than credited once
 * {@link #credited} was told the initial credit) at every message, and grants credit for every token it
 * receives when {@code autoCredit} is on, as the gateway does once it wrote them out.
 */
final class StreamProbe {
    final String requestId;
    final String address;
    private final Vertx vertx;
    private final String workerId;
    private final boolean autoCredit;
    private final List<StreamMessage.Tokens> messages = new ArrayList<>();
    final CompletableFuture<StreamMessage> terminal = new CompletableFuture<>();
    private volatile String violation;
    private long credited = -1; // -1: not checked
    private MessageConsumer<StreamMessage> consumer;

    private StreamProbe(Vertx vertx, String workerId, String requestId, boolean autoCredit) {
        this.vertx = vertx;
        this.workerId = workerId;
        this.requestId = requestId;
        this.address = Addresses.stream(requestId);
        this.autoCredit = autoCredit;
    }

    static StreamProbe open(Vertx vertx, String workerId, String requestId, boolean autoCredit) throws Exception {
        StreamProbe p = new StreamProbe(vertx, workerId, requestId, autoCredit);
        p.consumer = vertx.eventBus().consumer(p.address, m -> p.onMessage(m.body()));
        p.consumer.completion().await(5, TimeUnit.SECONDS);
        return p;
    }

    private synchronized void onMessage(StreamMessage m) {
        if (terminal.isDone()) violation = "message after the terminal one: " + m;
        switch (m) {
            case StreamMessage.Tokens t -> {
                if (t.seq() != messages.size()) violation = "seq " + t.seq() + " after " + messages.size() + " messages";
                messages.add(t);
                int received = tokens().length;
                if (credited >= 0 && received > credited) violation = received + " tokens arrived, only " + credited + " credited";
                if (autoCredit) grant(t.tokens().length);
            }
            default -> terminal.complete(m);
        }
    }

    /** From now on, checks every message against the credit: {@code initial} (the request's) plus every grant. */
    synchronized StreamProbe credited(int initial) {
        credited = initial;
        return this;
    }

    synchronized void grant(int tokens) {
        if (credited >= 0) credited += tokens;
        vertx.eventBus().send(Addresses.control(workerId), new ControlMessage.Credit(requestId, tokens));
    }

    void cancel(String reason) {
        vertx.eventBus().send(Addresses.control(workerId), new ControlMessage.Cancel(requestId, reason));
    }

    synchronized int[] tokens() {
        return messages.stream().flatMapToInt(t -> java.util.Arrays.stream(t.tokens())).toArray();
    }

    /** The logprobs of every token, in order (null entries when not requested). */
    synchronized java.util.List<io.tandem.protocol.TokenLogprobs> logprobs() {
        java.util.List<io.tandem.protocol.TokenLogprobs> out = new ArrayList<>();
        for (StreamMessage.Tokens t : messages) {
            for (int i = 0; i < t.tokens().length; i++) out.add(t.logprobs() == null ? null : t.logprobs()[i]);
        }
        return out;
    }

    synchronized int messageCount() {
        return messages.size();
    }

    /**
     * The terminal message, once the protocol held up to it and for a short window after it: a straggler after the
     * terminal is something that must not happen, and no later event would announce that none will come, so the
     * window is an explicit bounded check (its length decides how likely such a bug is caught, never whether a
     * correct run passes).
     */
    StreamMessage awaitTerminal() throws Exception {
        StreamMessage m = terminal.get(20, TimeUnit.SECONDS);
        Await.quiet(Duration.ofMillis(50), () -> violation != null, () -> violation);
        return m;
    }

    void awaitTokens(int n) {
        Await.until(Await.DEFAULT, () -> tokens().length >= n, () -> "only " + tokens().length + " of " + n + " tokens arrived");
    }

    String violation() {
        return violation;
    }

    void close() throws Exception {
        consumer.unregister().await(5, TimeUnit.SECONDS);
    }
}
