package io.tandem.registry.kv.vllm;

import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;
import io.tandem.registry.kv.KvIndex;
import io.tandem.registry.kv.KvIndexFeed;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

import java.io.IOException;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Payloads built the way vLLM's msgspec encoder lays them out ({@code array_like=True, tag=True,
 * omit_defaults=True}) land in the router's index under the hashes Tandem's router computes for the
 * same tokens.
 */
class VllmKvEventAdapterTest {
    private static final BlockHasher HASHER = new BlockHasher("some-model", 16);

    private static int[] tokens(int from, int n) {
        return IntStream.range(from, from + n).toArray();
    }

    /** {@code ["BlockStored", hashes, parent, token_ids, block_size, lora_id, medium]} with int hashes. */
    static void stored(MessageBufferPacker p, long[] hashes, Long parent, int[] tokens) throws IOException {
        p.packArrayHeader(7).packString("BlockStored");
        p.packArrayHeader(hashes.length);
        for (long h : hashes) p.packLong(h);
        if (parent == null) p.packNil();
        else p.packLong(parent);
        p.packArrayHeader(tokens.length);
        for (int t : tokens) p.packInt(t);
        p.packInt(16).packNil().packString("GPU");
    }

    static byte[] batch(double ts, Packing events, int count) throws IOException {
        MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
        p.packArrayHeader(2).packDouble(ts).packArrayHeader(count);
        events.pack(p);
        return p.toByteArray();
    }

    interface Packing {
        void pack(MessageBufferPacker p) throws IOException;
    }

    @Test
    void storedBlocksGetTandemHashesAndRemovalsAreTranslated() throws Exception {
        int[] prompt = tokens(100, 48); // three blocks
        VllmKvEventAdapter adapter = new VllmKvEventAdapter("vllm-0", HASHER);
        KvIndex index = new KvIndex();
        KvIndexFeed feed = new KvIndexFeed(index, w -> {}, 0);

        // two events: blocks 0-1 at the root, then block 2 chained to vLLM hash 902
        byte[] first = batch(1700000000.5, p -> {
            stored(p, new long[] {901, 902}, null, java.util.Arrays.copyOfRange(prompt, 0, 32));
            stored(p, new long[] {903}, 902L, java.util.Arrays.copyOfRange(prompt, 32, 48));
        }, 2);
        KvEventBatch b = adapter.adapt(first, 0);
        assertEquals(1700000000500L, b.timestampMillis());
        feed.onBatch(b);
        long[] ours = HASHER.hashBlocks(prompt);
        assertEquals(Map.of("vllm-0", 3), index.prefixBlocks(ours), "the router finds all three blocks by its own hashes");

        byte[] second = batch(1700000001.0, p -> {
            p.packArrayHeader(3).packString("BlockRemoved").packArrayHeader(1).packLong(902).packString("GPU");
        }, 1);
        feed.onBatch(adapter.adapt(second, 1));
        assertEquals(Map.of("vllm-0", 1), index.prefixBlocks(ours), "block 1 evicted: only block 0 is a prefix now");

        byte[] third = batch(1700000002.0, p -> p.packArrayHeader(1).packString("AllBlocksCleared"), 1);
        KvEventBatch cleared = adapter.adapt(third, 2);
        assertInstanceOf(KvEvent.AllBlocksCleared.class, cleared.events().getFirst());
        feed.onBatch(cleared);
        assertEquals(Map.of(), index.prefixBlocks(ours));
    }

    @Test
    void bytesHashesAndOmittedTrailingFieldsAreAccepted() throws Exception {
        int[] prompt = tokens(7, 16);
        VllmKvEventAdapter adapter = new VllmKvEventAdapter("vllm-1", HASHER);
        MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
        p.packArrayHeader(3).packLong(12).packArrayHeader(1); // integer ts, and a data_parallel_rank
        p.packArrayHeader(5).packString("BlockStored").packArrayHeader(1).packBinaryHeader(3).writePayload(new byte[] {1, 2, 3});
        p.packNil().packArrayHeader(16);
        for (int t : prompt) p.packInt(t);
        p.packInt(16); // lora_id and medium omitted (defaults)
        p.packInt(0);
        KvEventBatch b = adapter.adapt(p.toByteArray(), 5);
        assertEquals(5, b.seq());
        assertEquals(new KvEvent.BlocksStored(HASHER.hashBlocks(prompt), BlockHasher.ROOT), b.events().getFirst());
    }

    @Test
    void anUnknownParentIsSkippedAndCountedAndGarbageIsRejected() throws Exception {
        VllmKvEventAdapter adapter = new VllmKvEventAdapter("vllm-2", HASHER);
        KvEventBatch b = adapter.adapt(batch(1, p -> stored(p, new long[] {5}, 4L, tokens(0, 16)), 1), 0);
        assertTrue(b.events().isEmpty());
        assertEquals(1, adapter.unchainedBlocks());
        assertThrows(IllegalArgumentException.class, () -> adapter.adapt(new byte[] {(byte) 0xc1}, 1));
        assertThrows(IllegalArgumentException.class, () -> adapter.adapt(batch(1, p -> p.packArrayHeader(1).packString("BlockMoved"), 1), 1));
    }
}
