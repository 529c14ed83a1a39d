package io.tandem.registry.kv;

import io.tandem.protocol.kv.KvEvent;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Approximate KV routing, for workers that publish no KV events: the router assumes that a prompt it
 * sent to a worker is cached there for {@code ttlMillis} after the last request that used it, and
 * writes that assumption into the {@link KvIndex} as stored and, on expiry, removed events. Not
 * thread-safe: the router calls it from one context.
 */
public final class ApproxKvIndexer {
    private final KvIndex index;
    private final long ttlMillis;
    private final LongSupplier clock;
    /** Per worker: hash → expiry, oldest use first. */
    private final Map<String, LinkedHashMap<Long, Long>> expiries = new HashMap<>();

    public ApproxKvIndexer(KvIndex index, long ttlMillis, LongSupplier clock) {
        this.index = index;
        this.ttlMillis = ttlMillis;
        this.clock = clock;
    }

    /** The router sent a prompt with these full-block hashes to {@code workerId}. */
    public synchronized void routed(String workerId, long[] blockHashes) {
        if (blockHashes.length == 0) return;
        LinkedHashMap<Long, Long> held = expiries.computeIfAbsent(workerId, w -> new LinkedHashMap<>(16, 0.75f, true));
        long until = clock.getAsLong() + ttlMillis;
        for (long h : blockHashes) held.put(h, until); // access order: a refreshed block moves to the young end
        index.apply(workerId, new KvEvent.BlocksStored(blockHashes, 0));
    }

    /** Drops what expired; call periodically. */
    public synchronized void expire() {
        long now = clock.getAsLong();
        for (Map.Entry<String, LinkedHashMap<Long, Long>> e : expiries.entrySet()) {
            long[] gone = new long[e.getValue().size()];
            int n = 0;
            for (Iterator<Map.Entry<Long, Long>> it = e.getValue().entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Long, Long> b = it.next();
                if (b.getValue() > now) break; // the rest are younger
                gone[n++] = b.getKey();
                it.remove();
            }
            if (n > 0) index.apply(e.getKey(), new KvEvent.BlocksRemoved(java.util.Arrays.copyOf(gone, n)));
        }
    }

    /** The index the assumptions are written to. */
    public KvIndex index() {
        return index;
    }

    public synchronized void removeWorker(String workerId) {
        expiries.remove(workerId);
        index.removeWorker(workerId);
    }
}
