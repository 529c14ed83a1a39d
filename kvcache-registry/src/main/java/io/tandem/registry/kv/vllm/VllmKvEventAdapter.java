package io.tandem.registry.kv.vllm;

import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one vLLM worker's KV events — vLLM's published format: a msgpack {@code KVEventBatch}
 * {@code [ts, [event, ...], dp_rank?]} whose events are msgspec array-like tagged structs
 * {@code ["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id?, medium?]},
 * {@code ["BlockRemoved", block_hashes, medium?]}, {@code ["AllBlocksCleared"]} — into Tandem
 * {@link KvEventBatch}es, so the router can index workers that are not Tandem's.
 *
 * <p>vLLM's block hashes (ints or bytes, from its own hash function) mean nothing to Tandem's
 * router, which hashes prompts with {@link BlockHasher}. A stored event carries the blocks' token
 * ids, so the adapter recomputes each block's Tandem hash, chained from its parent's, and remembers
 * vLLM hash → Tandem hash to translate later removals. A stored block whose parent it never saw
 * cannot be chained: it is skipped and counted, and the caller should resync the worker.
 * One adapter per vLLM worker; not thread-safe.
 */
public final class VllmKvEventAdapter {
    private final String workerId;
    private final BlockHasher hasher;
    private final Map<Object, Long> tandemHashOf = new HashMap<>();
    private long unchained;

    public VllmKvEventAdapter(String workerId, BlockHasher hasher) {
        this.workerId = workerId;
        this.hasher = hasher;
    }

    /**
     * Decodes one msgpack payload.
     *
     * @param vllmSeq the sequence number of the ZMQ message (vLLM sends it beside the payload); it numbers the batch
     * @throws IllegalArgumentException for a payload that is not a vLLM KV event batch
     */
    public KvEventBatch adapt(byte[] payload, long vllmSeq) {
        try (MessageUnpacker in = MessagePack.newDefaultUnpacker(payload)) {
            int fields = in.unpackArrayHeader();
            if (fields < 2) throw new IllegalArgumentException("a KV event batch has at least [ts, events], got " + fields + " fields");
            double ts = in.getNextFormat().getValueType() == ValueType.INTEGER ? in.unpackLong() : in.unpackDouble();
            int n = in.unpackArrayHeader();
            List<KvEvent> events = new ArrayList<>();
            for (int i = 0; i < n; i++) event(in, events);
            for (int f = 2; f < fields; f++) in.skipValue(); // data_parallel_rank
            return new KvEventBatch(workerId, vllmSeq, Math.round(ts * 1000), events);
        } catch (IOException | RuntimeException e) {
            if (e instanceof IllegalArgumentException iae) throw iae;
            throw new IllegalArgumentException("not a vLLM KV event batch: " + e.getMessage(), e);
        }
    }

    private void event(MessageUnpacker in, List<KvEvent> out) throws IOException {
        int fields = in.unpackArrayHeader();
        String tag = in.unpackString();
        switch (tag) {
            case "BlockStored" -> {
                List<Object> hashes = hashes(in);
                Object parent = in.getNextFormat() == MessageFormat.NIL ? nil(in) : hash(in);
                int[] tokens = ints(in);
                int blockSize = in.unpackInt();
                for (int f = 5; f < fields; f++) in.skipValue(); // lora_id, medium
                stored(hashes, parent, tokens, blockSize, out);
            }
            case "BlockRemoved" -> {
                List<Object> hashes = hashes(in);
                for (int f = 2; f < fields; f++) in.skipValue(); // medium
                long[] removed = hashes.stream().map(tandemHashOf::remove).filter(h -> h != null).mapToLong(Long::longValue).toArray();
                if (removed.length > 0) out.add(new KvEvent.BlocksRemoved(removed));
            }
            case "AllBlocksCleared" -> {
                for (int f = 1; f < fields; f++) in.skipValue();
                tandemHashOf.clear();
                out.add(new KvEvent.AllBlocksCleared());
            }
            default -> throw new IllegalArgumentException("unknown vLLM KV event '" + tag + "'");
        }
    }

    private void stored(List<Object> hashes, Object parent, int[] tokens, int blockSize, List<KvEvent> out) {
        if (blockSize != hasher.blockSize()) {
            throw new IllegalArgumentException("vLLM block size " + blockSize + " differs from the router's " + hasher.blockSize());
        }
        if (tokens.length != hashes.size() * blockSize) {
            throw new IllegalArgumentException("BlockStored has " + hashes.size() + " blocks of " + blockSize + " but " + tokens.length + " token ids");
        }
        Long chain = parent == null ? Long.valueOf(BlockHasher.ROOT) : tandemHashOf.get(parent);
        if (chain == null) {
            unchained += hashes.size();
            return;
        }
        long first = chain;
        long[] ours = new long[hashes.size()];
        for (int b = 0; b < hashes.size(); b++) {
            chain = hasher.hashBlock(chain, tokens, b * blockSize);
            ours[b] = chain;
            tandemHashOf.put(hashes.get(b), chain);
        }
        out.add(new KvEvent.BlocksStored(ours, first));
    }

    private static Object nil(MessageUnpacker in) throws IOException {
        in.unpackNil();
        return null;
    }

    private static List<Object> hashes(MessageUnpacker in) throws IOException {
        int n = in.unpackArrayHeader();
        List<Object> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(hash(in));
        return out;
    }

    /** An ExternalBlockHash: an int, or bytes (compared by content). */
    private static Object hash(MessageUnpacker in) throws IOException {
        return switch (in.getNextFormat().getValueType()) {
            case INTEGER -> in.unpackBigInteger();
            case BINARY -> {
                byte[] b = new byte[in.unpackBinaryHeader()];
                in.readPayload(b);
                yield new Bytes(b);
            }
            default -> throw new IllegalArgumentException("a block hash must be an int or bytes, got " + in.getNextFormat());
        };
    }

    private static int[] ints(MessageUnpacker in) throws IOException {
        int n = in.unpackArrayHeader();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = in.unpackInt();
        return out;
    }

    /** Stored blocks skipped because their parent was never seen (the worker needs a resync). */
    public long unchainedBlocks() {
        return unchained;
    }

    private record Bytes(byte[] value) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Bytes b && Arrays.equals(value, b.value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }
    }
}
