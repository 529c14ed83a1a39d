package io.tandem.protocol.codec;

import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Registration on a real event bus: senders need no DeliveryOptions and local delivery keeps the instance. */
class ProtocolCodecsEventBusTest {
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void everyMessageTypeIsSendableWithoutDeliveryOptions() throws Exception {
        ProtocolCodecs.registerAll(vertx.eventBus());
        ProtocolCodecs.registerAll(vertx.eventBus()); // idempotent
        Object[] bodies = {
                new GenerateRequest("r", "m", new int[] {1}, SamplingParams.greedy(1), "a", 1),
                new StreamMessage.Tokens("r", 0, new int[] {1}),
                new StreamMessage.Finished("r", null, null),
                new StreamMessage.Failed("r", null, "x"),
                new ControlMessage.Credit("r", 1),
                new ControlMessage.Cancel("r", "x")};
        for (Object body : bodies) {
            var received = new java.util.concurrent.CompletableFuture<Object>();
            var consumer = vertx.eventBus().consumer("addr", (Message<Object> m) -> received.complete(m.body()));
            consumer.completion().await(5, TimeUnit.SECONDS);
            vertx.eventBus().send("addr", body);
            assertSame(body, received.get(5, TimeUnit.SECONDS), "local delivery passes the immutable instance");
            consumer.unregister().await(5, TimeUnit.SECONDS);
        }
    }
}
