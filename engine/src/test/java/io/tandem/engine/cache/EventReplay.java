package io.tandem.engine.cache;

import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a registry does with one worker's batches: applies them in sequence order to a set of
 * hashes. Strict — a gap in sequence numbers, storing a hash already held or removing one not
 * held fails the test, since any of those would leave a real index wrong.
 */
public final class EventReplay implements KvEventSink {
    public final Set<Long> hashes = new HashSet<>();
    final List<KvEventBatch> batches = new ArrayList<>();
    final List<KvEvent> events = new ArrayList<>();

    @Override
    public void publish(KvEventBatch batch) {
        assertEquals(batches.size(), batch.seq(), "sequence numbers count batches from 0 without gaps");
        batches.add(batch);
        for (KvEvent e : batch.events()) {
            events.add(e);
            switch (e) {
                case KvEvent.BlocksStored s -> {
                    for (int i = 0; i < s.size(); i++) assertTrue(hashes.add(s.hash(i)), "stored twice: " + s.hash(i));
                }
                case KvEvent.BlocksRemoved r -> {
                    for (int i = 0; i < r.size(); i++) assertTrue(hashes.remove(r.hash(i)), "removed but not stored: " + r.hash(i));
                }
                case KvEvent.AllBlocksCleared c -> hashes.clear();
            }
        }
    }

    /** The hashes of every stored event, in order. */
    List<Long> storedOrder() {
        List<Long> out = new ArrayList<>();
        for (KvEvent e : events) if (e instanceof KvEvent.BlocksStored s) for (int i = 0; i < s.size(); i++) out.add(s.hash(i));
        return out;
    }

    /** The hashes of every removed event, in order. */
    List<Long> removedOrder() {
        List<Long> out = new ArrayList<>();
        for (KvEvent e : events) if (e instanceof KvEvent.BlocksRemoved r) for (int i = 0; i < r.size(); i++) out.add(r.hash(i));
        return out;
    }

    /** Applies a batch without the strict checks (a consumer that starts at a snapshot). */
    static void applyLoose(Set<Long> set, KvEventBatch batch) {
        for (KvEvent e : batch.events()) {
            switch (e) {
                case KvEvent.BlocksStored s -> { for (int i = 0; i < s.size(); i++) set.add(s.hash(i)); }
                case KvEvent.BlocksRemoved r -> { for (int i = 0; i < r.size(); i++) set.remove(r.hash(i)); }
                case KvEvent.AllBlocksCleared c -> set.clear();
            }
        }
    }

    static Set<Long> setOf(long[] hashes) {
        Set<Long> s = new HashSet<>();
        for (long h : hashes) s.add(h);
        return s;
    }
}
