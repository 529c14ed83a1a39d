package io.tandem.engine.cache;

import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Collects a cache's events between flushes and publishes them as numbered batches. Adjacent
 * events coalesce (a block stored right after its parent extends the parent's
 * {@link KvEvent.BlocksStored}, evictions merge into one {@link KvEvent.BlocksRemoved}, a clear
 * discards what was pending before it), which keeps batches small without changing what a
 * consumer reconstructs. The owner flushes once per engine step; a log that grows past
 * {@link #AUTO_FLUSH_HASHES} flushes by itself so a forgotten flush cannot grow it unbounded.
 * Not thread-safe: used by the engine thread that owns the cache.
 */
public final class KvEventLog {
    static final int AUTO_FLUSH_HASHES = 4096;

    private final String workerId;
    private final KvEventSink sink;
    private final LongSupplier clockMillis;
    private final List<Pending> pending = new ArrayList<>();
    private int pendingHashes;
    private long nextSeq;

    public KvEventLog(String workerId, KvEventSink sink, LongSupplier clockMillis) {
        this.workerId = Objects.requireNonNull(workerId, "workerId");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.clockMillis = Objects.requireNonNull(clockMillis, "clockMillis");
    }

    public KvEventLog(String workerId, KvEventSink sink) {
        this(workerId, sink, System::currentTimeMillis);
    }

    /** A log that publishes nowhere. */
    public static KvEventLog discarding() {
        return new KvEventLog("none", KvEventSink.NONE);
    }

    void stored(long hash, long parent) {
        Pending last = last();
        if (last != null && last.kind == Kind.STORED && last.hashes[last.size - 1] == parent) last.add(hash);
        else pending.add(new Pending(Kind.STORED, parent).add(hash));
        grew();
    }

    void removed(long hash) {
        Pending last = last();
        if (last != null && last.kind == Kind.REMOVED) last.add(hash);
        else pending.add(new Pending(Kind.REMOVED, 0).add(hash));
        grew();
    }

    void cleared() {
        pending.clear(); // nothing before a clear can matter to whoever applies it
        pendingHashes = 0;
        pending.add(new Pending(Kind.CLEARED, 0));
    }

    /** Publishes what is pending as one batch with the next sequence number; returns whether there was anything. */
    public boolean flush() {
        if (pending.isEmpty()) return false;
        List<KvEvent> events = new ArrayList<>(pending.size());
        for (Pending p : pending) events.add(p.toEvent());
        pending.clear();
        pendingHashes = 0;
        sink.publish(new KvEventBatch(workerId, nextSeq++, clockMillis.getAsLong(), events));
        return true;
    }

    /** Sequence number the next batch will carry (batches published so far). */
    public long nextSeq() {
        return nextSeq;
    }

    public boolean hasPending() {
        return !pending.isEmpty();
    }

    public String workerId() {
        return workerId;
    }

    private Pending last() {
        return pending.isEmpty() ? null : pending.getLast();
    }

    private void grew() {
        if (++pendingHashes >= AUTO_FLUSH_HASHES) flush();
    }

    private enum Kind { STORED, REMOVED, CLEARED }

    private static final class Pending {
        final Kind kind;
        final long parent;
        long[] hashes = new long[4];
        int size;

        Pending(Kind kind, long parent) {
            this.kind = kind;
            this.parent = parent;
        }

        Pending add(long hash) {
            if (size == hashes.length) hashes = Arrays.copyOf(hashes, size * 2);
            hashes[size++] = hash;
            return this;
        }

        KvEvent toEvent() {
            return switch (kind) {
                case STORED -> new KvEvent.BlocksStored(Arrays.copyOf(hashes, size), parent);
                case REMOVED -> new KvEvent.BlocksRemoved(Arrays.copyOf(hashes, size));
                case CLEARED -> new KvEvent.AllBlocksCleared();
            };
        }
    }
}
