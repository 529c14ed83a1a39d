package io.tandem.protocol.kv;

import io.tandem.protocol.codec.KvEventBatchCodec;

import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.ProtocolCodecs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class KvEventBatchCodecTest {
    private final KvEventBatchCodec codec = new KvEventBatchCodec();

    /** Encodes after unrelated leading bytes (as the clustered event bus frames a body) and decodes at that offset. */
    private KvEventBatch wire(KvEventBatch batch) {
        Buffer b = Buffer.buffer().appendString("frame-header");
        int pos = b.length();
        codec.encodeToWire(b, batch);
        KvEventBatch back = codec.decodeFromWire(pos, b);
        assertEquals(batch, back);
        assertNotSame(batch, back);
        return back;
    }

    @Test
    void everyEventKindRoundTrips() {
        var batch = new KvEventBatch("decode-1a2b", 42, 1_700_000_000_123L, List.of(
                new KvEvent.BlocksStored(new long[] {0x1234L, -1L, Long.MIN_VALUE}, BlockHasher.ROOT),
                new KvEvent.BlocksRemoved(new long[] {Long.MAX_VALUE}),
                new KvEvent.AllBlocksCleared(),
                new KvEvent.BlocksStored(new long[] {7L}, 0x1234L)));
        KvEventBatch back = wire(batch);
        var stored = (KvEvent.BlocksStored) back.events().get(3);
        assertEquals(0x1234L, stored.parentHash());
        assertEquals(0x1234L, stored.parentOf(0));
        assertEquals(-1L, ((KvEvent.BlocksStored) back.events().get(0)).parentOf(2));
    }

    @Test
    void emptyBatchAndUnicodeWorkerId() {
        wire(new KvEventBatch("wörker-🚀", 0, 0, List.of()));
    }

    @Test
    void largeRandomBatchRoundTripsCompactly() {
        Random rnd = new Random(7);
        List<KvEvent> events = new ArrayList<>();
        int hashes = 0;
        for (int i = 0; i < 200; i++) {
            long[] h = rnd.longs(1 + rnd.nextInt(64)).toArray();
            hashes += h.length;
            events.add(rnd.nextBoolean() ? new KvEvent.BlocksStored(h, rnd.nextLong()) : new KvEvent.BlocksRemoved(h));
        }
        var batch = new KvEventBatch("w", Long.MAX_VALUE, -5, events);
        wire(batch);
        // 8 bytes per hash plus a small fixed part per event: no boxing, no text
        assertTrue(codec.encode(batch).length() < hashes * 8 + events.size() * 13 + 64);
    }

    @Test
    void recordsAreImmutable() {
        long[] hashes = {1, 2, 3};
        var stored = new KvEvent.BlocksStored(hashes, 0);
        hashes[0] = 99;
        stored.blockHashes()[1] = 99;
        assertArrayEquals(new long[] {1, 2, 3}, stored.blockHashes());
        List<KvEvent> events = new ArrayList<>(List.of(stored));
        var batch = new KvEventBatch("w", 0, 0, events);
        events.clear();
        assertEquals(1, batch.events().size());
    }

    @Test
    void invalidEventsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new KvEvent.BlocksStored(new long[0], 0));
        assertThrows(IllegalArgumentException.class, () -> new KvEvent.BlocksRemoved(new long[0]));
        assertThrows(IllegalArgumentException.class, () -> new KvEventBatch("w", -1, 0, List.of()));
        assertThrows(NullPointerException.class, () -> new KvEventBatch(null, 0, 0, List.of()));
    }

    @Test
    void otherVersionIsRefusedClearly() {
        Buffer b = codec.encode(new KvEventBatch("w", 1, 2, List.of(new KvEvent.AllBlocksCleared())));
        b.setByte(0, (byte) 9);
        var e = assertThrows(IllegalStateException.class, () -> codec.decode(b));
        assertTrue(e.getMessage().contains("wire version 9"), e.getMessage());
    }

    @Test
    void corruptOrTruncatedInputIsRefusedClearly() {
        Buffer good = codec.encode(new KvEventBatch("w", 1, 2, List.of(new KvEvent.BlocksRemoved(new long[] {5, 6}))));
        Buffer hugeCount = good.copy();
        hugeCount.setInt(1 + 4 + 1 + 8 + 8, 1 << 30); // event count
        assertTrue(assertThrows(IllegalStateException.class, () -> codec.decode(hugeCount)).getMessage().contains("exceeds"));
        Buffer badKind = good.copy();
        badKind.setByte(1 + 4 + 1 + 8 + 8 + 4, (byte) 77);
        assertTrue(assertThrows(IllegalStateException.class, () -> codec.decode(badKind)).getMessage().contains("unknown event kind 77"));
        for (int cut = 0; cut < good.length(); cut++) {
            Buffer truncated = good.getBuffer(0, cut);
            assertThrows(IllegalStateException.class, () -> codec.decode(truncated), "cut at " + cut);
        }
    }

    @Test
    void registeredOnTheEventBus() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            ProtocolCodecs.registerAll(vertx.eventBus());
            var batch = new KvEventBatch("w", 3, 4, List.of(new KvEvent.BlocksStored(new long[] {1}, 0)));
            var received = new CompletableFuture<Object>();
            var consumer = vertx.eventBus().consumer("kv", (Message<Object> m) -> received.complete(m.body()));
            consumer.completion().await(5, TimeUnit.SECONDS);
            vertx.eventBus().send("kv", batch);
            assertSame(batch, received.get(5, TimeUnit.SECONDS));
        } finally {
            vertx.close().await(10, TimeUnit.SECONDS);
        }
    }
}
