package io.tandem.protocol.codec;

import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link KvEventBatch}: the worker id, seq and timestamp, the event count, then per event a kind
 * byte and its hashes as a length-prefixed run of longs (a stored run also carries its parent).
 */
public final class KvEventBatchCodec extends BinaryCodec<KvEventBatch> {
    public static final String NAME = "tandem.KvEventBatch";

    private static final byte STORED = 0, REMOVED = 1, CLEARED = 2;

    public KvEventBatchCodec() {
        super(NAME, "KvEventBatch");
    }

    @Override
    void write(WireWriter w, KvEventBatch batch) {
        w.writeString(batch.workerId()).writeLong(batch.seq()).writeLong(batch.timestampMillis())
                .writeInt(batch.events().size());
        for (KvEvent e : batch.events()) {
            switch (e) {
                case KvEvent.BlocksStored s -> {
                    w.writeByte(STORED).writeLong(s.parentHash()).writeInt(s.size());
                    for (int i = 0; i < s.size(); i++) w.writeLong(s.hash(i)); // no copy of the hashes
                }
                case KvEvent.BlocksRemoved r -> {
                    w.writeByte(REMOVED).writeInt(r.size());
                    for (int i = 0; i < r.size(); i++) w.writeLong(r.hash(i));
                }
                case KvEvent.AllBlocksCleared c -> w.writeByte(CLEARED);
            }
        }
    }

    @Override
    KvEventBatch read(WireReader r) {
        String workerId = r.readString();
        long seq = r.readLong();
        long timestamp = r.readLong();
        int count = r.readLength(1); // every event takes at least its kind byte
        List<KvEvent> events = new ArrayList<>(Math.max(count, 0));
        for (int i = 0; i < count; i++) {
            int at = r.position();
            byte kind = r.readByte();
            events.add(switch (kind) {
                case STORED -> {
                    long parent = r.readLong();
                    yield new KvEvent.BlocksStored(hashes(r), parent);
                }
                case REMOVED -> new KvEvent.BlocksRemoved(hashes(r));
                case CLEARED -> new KvEvent.AllBlocksCleared();
                default -> throw new IllegalStateException("corrupt KvEventBatch: unknown event kind " + kind
                        + " at offset " + at);
            });
        }
        return new KvEventBatch(workerId, seq, timestamp, events);
    }

    private static long[] hashes(WireReader r) {
        int at = r.position();
        long[] hashes = r.readLongs();
        if (hashes == null || hashes.length == 0) {
            throw new IllegalStateException("corrupt KvEventBatch: empty hash list at offset " + at);
        }
        return hashes;
    }
}
