package io.tandem.registry.kv;

import com.carrotsearch.hppc.LongLongHashMap;
import com.carrotsearch.hppc.cursors.LongLongCursor;
import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;

import java.util.ArrayList;
import java.util.List;

/**
 * A worker's own copy of what its prefix cache holds (block hash → parent hash), built from the
 * batches it publishes, so it can hand out a snapshot — a batch that starts with a clear and
 * stores every cached block — without asking the engine. Not thread-safe: one publisher owns it.
 */
public final class KvMirror {
    private final String workerId;
    private final LongLongHashMap parentOf = new LongLongHashMap();
    private long lastSeq = -1;
    private long version;

    public KvMirror(String workerId) {
        this.workerId = workerId;
    }

    public void apply(KvEventBatch batch) {
        for (KvEvent e : batch.events()) {
            switch (e) {
                case KvEvent.BlocksStored s -> {
                    for (int i = 0; i < s.size(); i++) parentOf.put(s.hash(i), s.parentOf(i));
                }
                case KvEvent.BlocksRemoved r -> {
                    for (int i = 0; i < r.size(); i++) parentOf.remove(r.hash(i));
                }
                case KvEvent.AllBlocksCleared c -> parentOf.clear();
            }
        }
        lastSeq = batch.seq();
        version++;
    }

    /** The cache as one batch numbered like the last one applied: a clear, then one stored event per block. */
    public KvEventBatch snapshot(long timestampMillis) {
        List<KvEvent> events = new ArrayList<>(parentOf.size() + 1);
        events.add(new KvEvent.AllBlocksCleared());
        for (LongLongCursor c : parentOf) events.add(new KvEvent.BlocksStored(new long[] {c.key}, c.value));
        return new KvEventBatch(workerId, Math.max(lastSeq, 0), timestampMillis, events);
    }

    /** Grows with every applied batch; a publisher compares it to know whether a new snapshot is due. */
    public long version() {
        return version;
    }

    public int size() {
        return parentOf.size();
    }
}
