package io.tandem.worker.stream;

import io.tandem.engine.TokenSink;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.Usage;
import io.tandem.transfer.Await;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The stream's decisions against an engine that only records calls: events are fed through the
 * stream's engine sink from the test thread, which plays the engine thread. What the stream sends is
 * recorded as it writes it (the event bus delivers it later, on another thread), so a round trip on the
 * stream's context is all it takes to see the effect of everything queued before it.
 */
class RequestStreamTest {
    private Vertx vertx;
    private Context context;
    private final RecordingEngine engine = new RecordingEngine();
    private final List<StreamMessage> received = new CopyOnWriteArrayList<>();
    private final List<String> ends = new CopyOnWriteArrayList<>();
    private RequestStream stream;
    private TokenSink sink;

    @BeforeEach
    void setUp() throws Exception {
        vertx = Vertx.vertx();
        ProtocolCodecs.registerAll(vertx.eventBus());
        // someone consumes "s", so writes succeed; what was sent is recorded by the sender (see recording)
        vertx.eventBus().<StreamMessage>consumer("s", m -> { }).completion().await(10, TimeUnit.SECONDS);
        context = vertx.getOrCreateContext();
    }

    @AfterEach
    void tearDown() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    private void open(int credits, int capacity, long stallMillis) throws Exception {
        on(() -> {
            stream = new RequestStream("r", credits, capacity, engine, recording(vertx.eventBus().sender("s")), vertx, stallMillis,
                    new RequestStream.Listener() {
                        public void onTokensProduced(int count) {}

                        public void onEnd(RequestStream s, String outcome, Usage usage) {
                            ends.add(outcome);
                        }
                    });
            sink = stream.engineSink(context);
            stream.start();
            return null;
        });
    }

    /** The stream's sender, recording each message as the stream writes it. */
    private MessageProducer<StreamMessage> recording(MessageProducer<StreamMessage> sender) {
        return new MessageProducer<>() {
            public MessageProducer<StreamMessage> deliveryOptions(DeliveryOptions options) {
                sender.deliveryOptions(options);
                return this;
            }

            public String address() {
                return sender.address();
            }

            public Future<Void> write(StreamMessage m) {
                received.add(m);
                return sender.write(m);
            }

            public Future<Void> close() {
                return sender.close();
            }
        };
    }

    /**
     * Runs on the stream's context and waits for it. Context tasks run in order, so everything queued there before
     * (the sink's drains) has run too, and what the stream wrote is in {@link #received}.
     */
    private <T> T on(Supplier<T> action) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        context.runOnContext(v -> f.complete(action.get()));
        return f.get(10, TimeUnit.SECONDS);
    }

    /**
     * Waits for a timer of {@code millis} set on the stream's context now. Timers of one event loop fire in deadline
     * order, so once it fired every timer the stream set earlier with a shorter delay has fired (or was cancelled).
     */
    private void timersDueWithin(long millis) throws Exception {
        CompletableFuture<Void> fired = new CompletableFuture<>();
        context.runOnContext(v -> vertx.setTimer(millis, id -> fired.complete(null)));
        fired.get(millis + 10_000, TimeUnit.MILLISECONDS);
    }

    /** Feeds the events as the engine thread would, then lets the context drain them. */
    private void events(EngineEvent... events) throws Exception {
        for (EngineEvent e : events) {
            switch (e) {
                case EngineEvent.Token t -> sink.onToken(t.token(), t.logprobs());
                case EngineEvent.Finished f -> sink.onFinished(f.reason(), f.usage());
                case EngineEvent.Failed f -> sink.onFailed(f.code(), f.message());
            }
        }
        on(() -> null);
    }

    private static EngineEvent.Token tok(int t) {
        return new EngineEvent.Token(t, null);
    }

    private int[] receivedTokens() {
        return received.stream().filter(m -> m instanceof StreamMessage.Tokens)
                .flatMapToInt(m -> java.util.Arrays.stream(((StreamMessage.Tokens) m).tokens())).toArray();
    }

    @Test
    void pausesWhenCreditRunsOutResumesOnCreditAndFinishesAfterTheLastToken() throws Exception {
        open(2, 8, 60_000);
        events(tok(1), tok(2), tok(3));
        assertArrayEquals(new int[] {1, 2}, receivedTokens(), "the two credited tokens");
        assertEquals(List.of("pause"), engine.calls, "paused as the second token was produced");

        int before = received.size();
        events(new EngineEvent.Finished(FinishReason.STOP, new Usage(4, 3, 0)));
        assertEquals(before, received.size(), "Finished waits behind the unsent token");
        assertTrue(ends.isEmpty());

        on(() -> {
            stream.onCredit(5);
            return null;
        });
        assertArrayEquals(new int[] {1, 2, 3}, receivedTokens());
        assertEquals(new StreamMessage.Finished("r", FinishReason.STOP, new Usage(4, 3, 0)), received.get(received.size() - 1));
        assertEquals(List.of("stop"), ends);
        assertTrue(received.stream().limit(received.size() - 1).allMatch(m -> m instanceof StreamMessage.Tokens));
    }

    @Test
    void resumesTheEngineWhenCreditArrives() throws Exception {
        open(1, 8, 60_000);
        events(tok(1));
        on(() -> {
            stream.onCredit(3);
            return null;
        });
        assertEquals(List.of("pause", "resume"), engine.calls);
        events(tok(2), tok(3), tok(4));
        assertEquals(List.of("pause", "resume", "pause"), engine.calls);
        List<Long> seqs = received.stream().map(m -> ((StreamMessage.Tokens) m).seq()).toList();
        assertEquals(java.util.stream.LongStream.range(0, seqs.size()).boxed().toList(), seqs, "seq counts messages without gaps");
        assertArrayEquals(new int[] {1, 2, 3, 4}, receivedTokens());
    }

    @Test
    void zeroCreditPausesAtStart() throws Exception {
        open(0, 8, 60_000);
        assertEquals(List.of("pause"), engine.calls);
    }

    @Test
    void pauseHappensOnTheEngineThreadEvenWhileTheEventLoopLags() throws Exception {
        open(3, 8, 60_000);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        context.runOnContext(v -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        for (int t = 0; t < 3; t++) sink.onToken(t, null);
        assertEquals(List.of("pause"), engine.calls, "paused before the context saw any token");
        release.countDown();
        on(() -> null);
        assertArrayEquals(new int[] {0, 1, 2}, receivedTokens());
    }

    @Test
    void creditedTokensOfALaggingBatchAreNoOverflow() throws Exception {
        open(100, 2, 60_000);
        EngineEvent[] many = java.util.stream.IntStream.range(0, 100).mapToObj(RequestStreamTest::tok).toArray(EngineEvent[]::new);
        events(many);
        assertEquals(100, receivedTokens().length);
        assertTrue(ends.isEmpty());
    }

    @Test
    void anEngineThatIgnoresThePauseIsStoppedNotBufferedForever() throws Exception {
        open(1, 3, 60_000);
        events(tok(1), tok(2), tok(3), tok(4), tok(5));
        assertEquals(List.of("pause", "cancel"), engine.calls);
        var failed = assertInstanceOf(StreamMessage.Failed.class, received.get(received.size() - 1));
        assertEquals(ErrorCode.INTERNAL, failed.code());
        assertEquals(List.of("failed"), ends);
        events(tok(6), new EngineEvent.Finished(FinishReason.CANCELLED, new Usage(1, 6, 0)));
        assertEquals(2, received.size(), "nothing after the terminal message");
    }

    @Test
    void aFailureSendsWhatTheCreditAllowsThenFailed() throws Exception {
        open(2, 8, 60_000);
        events(tok(1), tok(2), tok(3), new EngineEvent.Failed(ErrorCode.UNAVAILABLE, "engine closed"));
        assertArrayEquals(new int[] {1, 2}, receivedTokens());
        assertEquals(new StreamMessage.Failed("r", ErrorCode.UNAVAILABLE, "engine closed"), received.get(received.size() - 1));
        assertEquals(List.of("failed"), ends);
    }

    @Test
    void cancelledDropsUnsentTokensAndEndsAtOnce() throws Exception {
        open(1, 8, 60_000);
        events(tok(1), tok(2));
        on(() -> {
            stream.cancel("client gone");
            return null;
        });
        assertEquals(List.of("pause", "cancel"), engine.calls);
        events(new EngineEvent.Finished(FinishReason.CANCELLED, new Usage(3, 2, 0)));
        assertArrayEquals(new int[] {1}, receivedTokens());
        assertEquals(FinishReason.CANCELLED, ((StreamMessage.Finished) received.get(received.size() - 1)).reason());
        assertEquals(List.of("cancelled"), ends);
    }

    @Test
    void theStallTimerCancelsOnlyWhileCreditIsExhausted() throws Exception {
        long stall = 400;
        open(1, 8, stall);
        // one context task, so the credit comes in time however loaded the machine is
        on(() -> {
            stream.onEngineEvents(List.of(tok(1))); // credit exhausted: the timer runs
            stream.onCredit(1); // credit in time: timer stopped
            return null;
        });
        timersDueWithin(2 * stall); // the stopped timer would have fired by now
        assertFalse(engine.calls.contains("cancel"), "no stall while credit is left: " + engine.calls);
        events(tok(2)); // exhausted again: a fresh timer
        Await.until(Duration.ofSeconds(10), () -> engine.calls.contains("cancel"), engine.calls::toString);
    }

    @Test
    void noConsumerAtTheStreamAddressCancels() throws Exception {
        on(() -> {
            stream = new RequestStream("r", 4, 8, engine, vertx.eventBus().sender("nobody-here"), vertx, 60_000,
                    new RequestStream.Listener() {
                        public void onTokensProduced(int count) {}

                        public void onEnd(RequestStream s, String outcome, Usage usage) {
                            ends.add(outcome);
                        }
                    });
            sink = stream.engineSink(context);
            stream.start();
            stream.onEngineEvents(List.of(tok(1)));
            return null;
        });
        // the event bus fails the write with NO_HANDLERS asynchronously
        Await.until(Duration.ofSeconds(10), () -> !engine.calls.isEmpty(), () -> "no cancel");
        assertEquals(List.of("cancel"), engine.calls);
        events(new EngineEvent.Finished(FinishReason.CANCELLED, new Usage(1, 1, 0)));
        assertEquals(List.of("cancelled"), ends);
    }
}
