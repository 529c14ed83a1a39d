package io.tandem.registry;

import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent.Cause;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The live workers one node sees: pure bookkeeping, no I/O, no clock of its own.
 *
 * <p>Every entry expires one lease (the one its writer announced, else the view's) after the
 * last time it was refreshed here (local receipt time, so clocks of other machines do not matter). Writes are ordered by the record's
 * {@code heartbeatMillis} (the owner makes it increase): an older write than the entry held, or
 * than a recent removal (a tombstone kept for one lease), is ignored — so a heartbeat that
 * arrives late cannot resurrect a deregistered worker. Mutators are synchronized (events come
 * from several threads); readers get an immutable snapshot without locking.
 */
final class WorkerView {

    private record Entry(WorkerRecord record, long expiresAtNanos) {}

    private record Tombstone(long heartbeatMillis, long expiresAtNanos) {}

    /** Immutable, precomputed answers to every read. */
    private record Snapshot(List<WorkerRecord> all, Map<String, List<WorkerRecord>> byModel,
                            Map<String, WorkerRecord> byId, Set<String> models) {
        static final Snapshot EMPTY = new Snapshot(List.of(), Map.of(), Map.of(), Set.of());
    }

    private final long leaseNanos;
    private final Map<String, Entry> entries = new HashMap<>();
    private final Map<String, Tombstone> tombstones = new HashMap<>();
    private volatile Snapshot snapshot = Snapshot.EMPTY;

    WorkerView(long leaseNanos) {
        if (leaseNanos <= 0) {
            throw new IllegalArgumentException("lease must be positive");
        }
        this.leaseNanos = leaseNanos;
    }

    /**
     * A write of {@code record} seen at {@code nowNanos}, that was already {@code ageNanos} old
     * (0 for a live event; the record's age for an initial load).
     *
     * @return the event it caused, if any (a plain lease refresh causes none)
     */
    synchronized List<WorkerEvent> upsert(WorkerRecord record, long nowNanos, long ageNanos) {
        return upsert(record, nowNanos, ageNanos, leaseNanos);
    }

    /** As {@link #upsert(WorkerRecord, long, long)}, with the lease its writer announced. */
    synchronized List<WorkerEvent> upsert(WorkerRecord record, long nowNanos, long ageNanos, long leaseNanos) {
        String id = record.workerId();
        long expiresAt = nowNanos + leaseNanos - Math.clamp(ageNanos, 0, leaseNanos);
        if (expiresAt <= nowNanos) {
            return List.of();
        }
        Tombstone tomb = tombstones.get(id);
        if (tomb != null && record.heartbeatMillis() <= tomb.heartbeatMillis()) {
            return List.of();
        }
        Entry old = entries.get(id);
        if (old != null && record.heartbeatMillis() < old.record().heartbeatMillis()) {
            return List.of();
        }
        tombstones.remove(id);
        entries.put(id, new Entry(record, Math.max(expiresAt, old == null ? 0 : old.expiresAtNanos())));
        if (old == null) {
            rebuild();
            return List.of(new WorkerEvent.Added(record));
        }
        if (old.record().equals(record)) {
            return List.of();
        }
        rebuild();
        return sameButHeartbeat(old.record(), record) ? List.of() : List.of(new WorkerEvent.Updated(record));
    }

    /** Removes whatever record {@code workerId} has, whatever its heartbeat. */
    static final long ANY = Long.MAX_VALUE;

    /**
     * Removes {@code workerId} unless the view holds a newer write than {@code heartbeatMillis}
     * (the heartbeat of the removed record, or {@link #ANY}). Later writes not newer than the
     * removed record are ignored for one lease.
     */
    synchronized List<WorkerEvent> remove(String workerId, long heartbeatMillis, Cause cause, long nowNanos) {
        Entry old = entries.get(workerId);
        if (old != null && old.record().heartbeatMillis() > heartbeatMillis) {
            return List.of();
        }
        if (heartbeatMillis != ANY || old != null) {
            long tombAt = heartbeatMillis != ANY ? heartbeatMillis : old.record().heartbeatMillis();
            tombstones.put(workerId, new Tombstone(tombAt, nowNanos + leaseNanos));
        }
        if (old == null) {
            return List.of();
        }
        entries.remove(workerId);
        rebuild();
        return List.of(new WorkerEvent.Removed(old.record(), cause));
    }

    /** Removes every worker matching {@code which}, e.g. all workers of a member that left. */
    synchronized List<WorkerEvent> removeIf(Predicate<WorkerRecord> which, Cause cause, long nowNanos) {
        List<WorkerEvent> events = new ArrayList<>();
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            WorkerRecord r = it.next().record();
            if (which.test(r)) {
                it.remove();
                tombstones.put(r.workerId(), new Tombstone(r.heartbeatMillis(), nowNanos + leaseNanos));
                events.add(new WorkerEvent.Removed(r, cause));
            }
        }
        if (!events.isEmpty()) {
            rebuild();
        }
        return events;
    }

    /** Drops the workers whose lease ran out, and tombstones older than a lease. */
    synchronized List<WorkerEvent> expire(long nowNanos) {
        tombstones.values().removeIf(t -> t.expiresAtNanos() - nowNanos <= 0);
        List<WorkerEvent> events = new ArrayList<>();
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.expiresAtNanos() - nowNanos <= 0) {
                it.remove();
                tombstones.put(e.record().workerId(), new Tombstone(e.record().heartbeatMillis(), nowNanos + leaseNanos));
                events.add(new WorkerEvent.Removed(e.record(), Cause.LEASE_EXPIRED));
            }
        }
        if (!events.isEmpty()) {
            rebuild();
        }
        return events;
    }

    List<WorkerRecord> all() {
        return snapshot.all();
    }

    List<WorkerRecord> ofModel(String model) {
        return snapshot.byModel().getOrDefault(model, List.of());
    }

    Optional<WorkerRecord> get(String workerId) {
        return Optional.ofNullable(snapshot.byId().get(workerId));
    }

    Set<String> models() {
        return snapshot.models();
    }

    private static boolean sameButHeartbeat(WorkerRecord a, WorkerRecord b) {
        return a.withLoad(a.load(), 0).equals(b.withLoad(b.load(), 0));
    }

    private void rebuild() {
        List<WorkerRecord> all = entries.values().stream().map(Entry::record)
                .sorted(Comparator.comparing(WorkerRecord::workerId)).toList();
        Map<String, List<WorkerRecord>> byModel = new TreeMap<>();
        Map<String, WorkerRecord> byId = new HashMap<>();
        for (WorkerRecord r : all) {
            byModel.computeIfAbsent(r.model(), m -> new ArrayList<>()).add(r);
            byId.put(r.workerId(), r);
        }
        byModel.replaceAll((m, list) -> List.copyOf(list));
        snapshot = new Snapshot(all, Collections.unmodifiableMap(byModel), Collections.unmodifiableMap(byId),
                Collections.unmodifiableSet(new TreeSet<>(byModel.keySet())));
    }
}
