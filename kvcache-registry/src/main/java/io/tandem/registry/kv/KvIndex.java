package io.tandem.registry.kv;

import com.carrotsearch.hppc.LongHashSet;
import com.carrotsearch.hppc.LongObjectHashMap;
import com.carrotsearch.hppc.cursors.LongCursor;
import io.tandem.protocol.kv.KvEvent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Which workers hold which KV blocks, as a router needs it: for a prompt's chained block hashes,
 * how many leading blocks each worker already has cached. An inverted index — block hash to the
 * bit set of workers (dense slots) holding it — so a lookup walks the prompt's hashes once, ANDing
 * bit sets, whatever the number of workers. Each worker's own hash set makes dropping a dead
 * worker proportional to what it held.
 *
 * <p>Thread-safe: lookups share a read lock, updates take the write lock.
 */
public final class KvIndex {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final LongObjectHashMap<long[]> holders = new LongObjectHashMap<>();
    private final Map<String, Integer> slotOf = new HashMap<>();
    private final List<String> workerOf = new ArrayList<>();
    private final List<LongHashSet> held = new ArrayList<>();
    private final List<Integer> freeSlots = new ArrayList<>();

    /** Applies one of a worker's events (the caller keeps them in the worker's sequence order). */
    public void apply(String workerId, KvEvent event) {
        lock.writeLock().lock();
        try {
            int slot = slot(workerId);
            switch (event) {
                case KvEvent.BlocksStored s -> {
                    for (int i = 0; i < s.size(); i++) add(slot, s.hash(i));
                }
                case KvEvent.BlocksRemoved r -> {
                    for (int i = 0; i < r.size(); i++) remove(slot, r.hash(i));
                }
                case KvEvent.AllBlocksCleared c -> clear(slot);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Forgets a worker and everything it held (it died, restarted or left). */
    public void removeWorker(String workerId) {
        lock.writeLock().lock();
        try {
            Integer slot = slotOf.remove(workerId);
            if (slot == null) return;
            clear(slot);
            workerOf.set(slot, null);
            freeSlots.add(slot);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * For each worker holding at least the first block, the number of leading {@code blockHashes}
     * it holds (its cached prefix, in blocks). Workers holding nothing of the prompt are absent.
     */
    public Map<String, Integer> prefixBlocks(long[] blockHashes) {
        Map<String, Integer> out = new HashMap<>();
        if (blockHashes.length == 0) return out;
        lock.readLock().lock();
        try {
            long[] first = holders.get(blockHashes[0]);
            if (first == null) return out;
            long[] alive = first.clone();
            int depth = 1;
            for (; depth < blockHashes.length; depth++) {
                long[] h = holders.get(blockHashes[depth]);
                boolean any = false;
                for (int w = 0; w < alive.length; w++) {
                    long next = h == null || w >= h.length ? 0 : alive[w] & h[w];
                    long dropped = alive[w] & ~next;
                    if (dropped != 0) record(out, w, dropped, depth);
                    alive[w] = next;
                    any |= next != 0;
                }
                if (!any) return out;
            }
            for (int w = 0; w < alive.length; w++) if (alive[w] != 0) record(out, w, alive[w], depth);
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Whether {@code workerId} holds the block (tests and diagnostics). */
    public boolean holds(String workerId, long blockHash) {
        lock.readLock().lock();
        try {
            Integer slot = slotOf.get(workerId);
            return slot != null && held.get(slot).contains(blockHash);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The hashes a worker holds (a copy). */
    public long[] blocksOf(String workerId) {
        lock.readLock().lock();
        try {
            Integer slot = slotOf.get(workerId);
            return slot == null ? new long[0] : held.get(slot).toArray();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Distinct block hashes indexed. */
    public int size() {
        lock.readLock().lock();
        try {
            return holders.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** (worker, block) entries indexed. */
    public long entries() {
        lock.readLock().lock();
        try {
            long n = 0;
            for (LongHashSet s : held) if (s != null) n += s.size();
            return n;
        } finally {
            lock.readLock().unlock();
        }
    }

    private void record(Map<String, Integer> out, int word, long bits, int depth) {
        while (bits != 0) {
            int slot = word * 64 + Long.numberOfTrailingZeros(bits);
            bits &= bits - 1;
            out.put(workerOf.get(slot), depth);
        }
    }

    private int slot(String workerId) {
        Integer s = slotOf.get(workerId);
        if (s != null) return s;
        int slot;
        if (!freeSlots.isEmpty()) {
            slot = freeSlots.removeLast();
            workerOf.set(slot, workerId);
            held.set(slot, new LongHashSet());
        } else {
            slot = workerOf.size();
            workerOf.add(workerId);
            held.add(new LongHashSet());
        }
        slotOf.put(workerId, slot);
        return slot;
    }

    private void add(int slot, long hash) {
        if (!held.get(slot).add(hash)) return;
        int word = slot >>> 6;
        long[] bits = holders.get(hash);
        if (bits == null || bits.length <= word) {
            long[] grown = new long[word + 1];
            if (bits != null) System.arraycopy(bits, 0, grown, 0, bits.length);
            bits = grown;
            holders.put(hash, bits);
        }
        bits[word] |= 1L << (slot & 63);
    }

    private void remove(int slot, long hash) {
        if (!held.get(slot).remove(hash)) return;
        unset(slot, hash);
    }

    private void unset(int slot, long hash) {
        long[] bits = holders.get(hash);
        if (bits == null) return;
        int word = slot >>> 6;
        if (word < bits.length) bits[word] &= ~(1L << (slot & 63));
        for (long b : bits) if (b != 0) return;
        holders.remove(hash);
    }

    private void clear(int slot) {
        LongHashSet set = held.get(slot);
        for (LongCursor c : set) unset(slot, c.value);
        set.clear();
    }
}
