package io.tandem.engine.cache;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The KV blocks of one engine, by id {@code 0..numBlocks-1}, with reference counts and the
 * prefix-cache index (chained block hash → block).
 *
 * <p>Every block is in exactly one state:
 * <ul>
 *   <li><b>active</b> — held by at least one sequence ({@code refCount > 0}), cached or not;</li>
 *   <li><b>empty</b> — {@code refCount == 0} and not cached: holds nothing worth keeping;</li>
 *   <li><b>evictable</b> — {@code refCount == 0} but cached: still reusable by a prefix hit,
 *       queued in order of release (least recently released first).</li>
 * </ul>
 * Free blocks are the empty and the evictable ones. Allocation takes empty blocks first and only then evicts the least recently released
 * evictable block, which leaves the cache and emits {@link io.tandem.protocol.kv.KvEvent.BlocksRemoved}.
 * Allocation is all-or-nothing: when the pool cannot supply every block asked for it returns
 * null and changes nothing.
 *
 * <p><b>Placement.</b> Block {@code b} is bytes {@code [b, b + 1) * blockBytes} of every arena, and decode attention
 * reads a sequence's blocks in table order: blocks scattered over the pool read about 1.6x slower than a run of
 * consecutive ones (docs/BENCHMARKS.md). A pool in use for a while hands out scattered blocks, since its eviction
 * queue mixes the blocks of every finished sequence. So {@link #allocate(int, int)}, given the sequence's last block,
 * takes for each block it hands out the one right after the previous (the sequence's last, then its own picks) when
 * that block may continue a run, and otherwise the next one as above. A block may continue a run when it is empty,
 * or when it is evictable, no block is empty, it has served no prefix hit since it was cached, and it was released in
 * the older half of the queue's time span. So a cached block may leave a little before its turn, but never while an
 * empty block is free, never one that a prefix hit has used (a shared prefix: with it protected, a shared-prefix load
 * hits as often as with the plain queue, docs/BENCHMARKS.md), and never one of the recently released (the last turn
 * of a conversation may come back). Past the leading run the blocks are returned in ascending order.
 *
 * <p>Not thread-safe: owned by one engine thread. Counters read from another thread may be stale.
 */
public final class BlockPool {
    private static final int NONE = -1;

    private final int numBlocks;
    private final KvEventLog events;
    private final int[] refCount;
    private final boolean[] cached;
    /** Whether a cached block has served a prefix hit since it was cached: a run never takes it early. */
    private final boolean[] reused;
    private final long[] hashOf;
    private final long[] parentOf;
    private final Map<Long, Integer> byHash = new HashMap<>();

    /** Empty blocks: a stack (the most recently freed is reused first); emptyAt[b] is b's index in it, or NONE. */
    private final int[] free, emptyAt;
    private int freeCount;
    /** When each evictable block was released (a counter): the queue is in this order. */
    private final long[] releasedAt;
    private long releases;

    /** Evictable blocks: a doubly linked list through prev/next, head evicted first. */
    private final int[] prev, next;
    private int head = NONE, tail = NONE, evictableCount;

    private int activeCount;

    public BlockPool(int numBlocks, KvEventLog events) {
        if (numBlocks < 1) throw new IllegalArgumentException("a block pool needs at least one block, got " + numBlocks);
        this.numBlocks = numBlocks;
        this.events = Objects.requireNonNull(events, "events");
        refCount = new int[numBlocks];
        cached = new boolean[numBlocks];
        reused = new boolean[numBlocks];
        hashOf = new long[numBlocks];
        parentOf = new long[numBlocks];
        prev = new int[numBlocks];
        next = new int[numBlocks];
        free = new int[numBlocks];
        emptyAt = new int[numBlocks];
        releasedAt = new long[numBlocks];
        for (int b = numBlocks - 1; b >= 0; b--) pushEmpty(b); // block 0 comes out first
    }

    /** A pool whose events go nowhere. */
    public BlockPool(int numBlocks) {
        this(numBlocks, KvEventLog.discarding());
    }

    /**
     * {@code n} blocks, each with reference count 1, or null (and nothing changed) when fewer than
     * {@code n} blocks are free. Evicts least recently released cached blocks as needed.
     */
    public int[] allocate(int n) {
        return allocate(n, NONE);
    }

    /**
     * {@link #allocate(int)} for a sequence whose last block is {@code after} (-1: none yet), choosing blocks that
     * continue runs where the eviction order allows (see the class comment, Placement).
     */
    public int[] allocate(int n, int after) {
        if (n < 0) throw new IllegalArgumentException("cannot allocate " + n + " blocks");
        if (after != NONE) checkId(after);
        if (n > freeBlocks()) return null;
        int[] out = new int[n];
        for (int i = 0, last = after; i < n; i++) {
            int next = last + 1;
            out[i] = last != NONE && next < numBlocks && continues(next) ? take(next)
                    : take(freeCount > 0 ? free[freeCount - 1] : head);
            last = out[i];
        }
        int run = 0;
        while (run < n && out[run] == (run == 0 ? after : out[run - 1]) + 1) run++;
        Arrays.sort(out, run, n);
        activeCount += n;
        return out;
    }

    /**
     * Whether a run may grow into block {@code b}: it is empty, or it is evictable, no block is empty (a cached block
     * is never evicted while an empty one is free), it served no prefix hit and it was released in the older half of
     * the queue's time span.
     */
    private boolean continues(int b) {
        if (refCount[b] > 0) return false;
        if (!cached[b]) return true;
        long age = releasedAt[b] - releasedAt[head], span = releasedAt[tail] - releasedAt[head];
        return freeCount == 0 && !reused[b] && age <= span / 2;
    }

    /** Takes free block {@code b} out of the empty stack or, evicting it, out of the queue. */
    private int take(int b) {
        if (cached[b]) {
            unlink(b);
            byHash.remove(hashOf[b]);
            cached[b] = false;
            events.removed(hashOf[b]);
        } else {
            int i = emptyAt[b], top = free[--freeCount];
            free[i] = top;
            emptyAt[top] = i;
            emptyAt[b] = NONE;
        }
        refCount[b] = 1;
        reused[b] = false;
        return b;
    }

    /** Adds a holder to a block that is active or cached (a prefix-cache hit revives an evictable block). */
    public void touch(int block) {
        checkId(block);
        if (refCount[block] == 0) {
            if (!cached[block]) throw new IllegalStateException("block " + block + " is free: only held or cached blocks can be shared");
            unlink(block);
            activeCount++;
        }
        refCount[block]++;
        reused[block] = cached[block];
    }

    /** Drops one holder; at zero the block becomes evictable if cached, else empty. */
    public void free(int block) {
        checkId(block);
        if (refCount[block] <= 0) throw new IllegalStateException("block " + block + " freed more often than it was held");
        if (--refCount[block] > 0) return;
        activeCount--;
        if (cached[block]) append(block);
        else pushEmpty(block);
    }

    /**
     * Registers an active, full block under its chained hash and emits it as stored. Returns
     * false and registers nothing when another block already holds that hash (the caller keeps
     * its block as a private duplicate) or when this block is cached already.
     */
    public boolean cache(int block, long hash, long parentHash) {
        checkId(block);
        if (refCount[block] == 0) throw new IllegalStateException("block " + block + " is not held: only computed blocks can be cached");
        if (cached[block] || byHash.containsKey(hash)) return false;
        byHash.put(hash, block);
        cached[block] = true;
        hashOf[block] = hash;
        parentOf[block] = parentHash;
        events.stored(hash, parentHash);
        return true;
    }

    /** The cached block holding {@code hash}, or -1. Does not touch it. */
    public int lookup(long hash) {
        Integer b = byHash.get(hash);
        return b == null ? NONE : b;
    }

    /** Forgets every cached hash (held blocks stay held, evictable ones become empty) and emits a clear. */
    public void clearCache() {
        byHash.clear();
        Arrays.fill(cached, false);
        Arrays.fill(reused, false);
        for (int b = head; b != NONE; b = next[b]) pushEmpty(b);
        head = tail = NONE;
        evictableCount = 0;
        events.cleared();
    }

    /**
     * Emits a clear followed by every cached block as stored, so a consumer that lost track of
     * this pool (a gap in sequence numbers) can rebuild its exact picture from the next batch.
     */
    public void emitSnapshot() {
        events.cleared();
        for (int b = 0; b < numBlocks; b++) if (cached[b]) events.stored(hashOf[b], parentOf[b]);
    }

    /** Blocks an allocation can take now: empty plus evictable. */
    public int freeBlocks() {
        return freeCount + evictableCount;
    }

    /** Free blocks holding nothing worth keeping (taken before any cached block is evicted). */
    public int emptyBlocks() {
        return freeCount;
    }

    /** Cached blocks nobody holds, reusable by a hit until evicted. */
    public int evictableBlocks() {
        return evictableCount;
    }

    /** Blocks held by at least one sequence. */
    public int activeBlocks() {
        return activeCount;
    }

    /** Blocks in the prefix-cache index (active or evictable). */
    public int cachedBlocks() {
        return byHash.size();
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int refCount(int block) {
        checkId(block);
        return refCount[block];
    }

    public boolean isCached(int block) {
        checkId(block);
        return cached[block];
    }

    /** Hashes currently in the index, for tests and diagnostics. */
    public long[] cachedHashes() {
        long[] out = new long[byHash.size()];
        int i = 0;
        for (long h : byHash.keySet()) out[i++] = h;
        return out;
    }

    /** The event log this pool writes to. */
    public KvEventLog events() {
        return events;
    }

    /** Checks the bookkeeping is self-consistent; throws IllegalStateException naming the first violation. */
    void verify() {
        int active = 0, evictable = 0, cachedCount = 0;
        for (int b = 0; b < numBlocks; b++) {
            if (refCount[b] < 0) throw new IllegalStateException("block " + b + " has ref count " + refCount[b]);
            if (refCount[b] > 0) active++;
            if (cached[b]) cachedCount++;
            if (cached[b] && lookup(hashOf[b]) != b) throw new IllegalStateException("cached block " + b + " missing from index");
        }
        if (cachedCount != byHash.size()) throw new IllegalStateException("index holds " + byHash.size() + " hashes for " + cachedCount + " cached blocks");
        for (int b = head, p = NONE; b != NONE; p = b, b = next[b]) {
            if (refCount[b] != 0 || !cached[b] || prev[b] != p) throw new IllegalStateException("evictable list corrupt at " + b);
            evictable++;
        }
        for (int i = 0; i < freeCount; i++) {
            if (refCount[free[i]] != 0 || cached[free[i]]) throw new IllegalStateException("empty block " + free[i] + " is held or cached");
            if (emptyAt[free[i]] != i) throw new IllegalStateException("empty block " + free[i] + " misplaced");
        }
        long stacked = Arrays.stream(emptyAt).filter(i -> i != NONE).count();
        if (stacked != freeCount) throw new IllegalStateException(stacked + " blocks placed, " + freeCount + " empty");
        if (active != activeCount || evictable != evictableCount || active + evictable + freeCount != numBlocks) {
            throw new IllegalStateException("counts disagree: active " + active + "/" + activeCount + ", evictable " + evictable
                    + "/" + evictableCount + ", empty " + freeCount + ", total " + numBlocks);
        }
    }

    private void pushEmpty(int b) {
        emptyAt[b] = freeCount;
        free[freeCount++] = b;
    }

    private void append(int b) {
        releasedAt[b] = releases++;
        prev[b] = tail;
        next[b] = NONE;
        if (tail == NONE) head = b;
        else next[tail] = b;
        tail = b;
        evictableCount++;
    }

    private void unlink(int b) {
        if (prev[b] == NONE) head = next[b];
        else next[prev[b]] = next[b];
        if (next[b] == NONE) tail = prev[b];
        else prev[next[b]] = prev[b];
        evictableCount--;
    }

    private void checkId(int block) {
        if (block < 0 || block >= numBlocks) throw new IllegalArgumentException("no block " + block + " in a pool of " + numBlocks);
    }
}
