package io.tandem.worker.stream;

import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class ContextSinkTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void eventsArrivingWhileTheContextIsBusyComeAsOneOrderedBatchOnThatContext() throws Exception {
        Context context = vertx.getOrCreateContext();
        List<List<EngineEvent>> batches = new CopyOnWriteArrayList<>();
        CompletableFuture<Boolean> onContext = new CompletableFuture<>();
        ContextSink sink = new ContextSink(context, new CreditGate(new RecordingEngine(), "r", 100), batch -> {
            onContext.complete(Vertx.currentContext() == context);
            batches.add(batch);
        });
        CountDownLatch busy = new CountDownLatch(1), release = new CountDownLatch(1);
        context.runOnContext(v -> {
            busy.countDown();
            try {
                release.await(); // the event loop lags behind the engine
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        busy.await();
        Thread engine = Thread.ofPlatform().start(() -> {
            for (int t = 0; t < 5; t++) sink.onToken(t, null);
            sink.onFinished(FinishReason.LENGTH, new Usage(1, 5, 0));
        });
        engine.join();
        release.countDown();
        assertTrue(onContext.get(10, TimeUnit.SECONDS), "handler runs on the given context");
        // a task queued now runs after that handler returned, and after any further drain queued before it
        CompletableFuture<Void> after = new CompletableFuture<>();
        context.runOnContext(v -> after.complete(null));
        after.get(10, TimeUnit.SECONDS);
        assertEquals(1, batches.size());
        List<EngineEvent> batch = batches.get(0);
        assertEquals(6, batch.size());
        for (int t = 0; t < 5; t++) assertEquals(new EngineEvent.Token(t, null), batch.get(t));
        assertInstanceOf(EngineEvent.Finished.class, batch.get(5));
    }
}
