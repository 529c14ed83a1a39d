package io.tandem.engine.cache;

import io.tandem.protocol.BlockHasher;

import java.util.Objects;

/**
 * Block bookkeeping of one engine: which blocks each sequence holds, the prefix cache, and the
 * KV events both produce. Pure bookkeeping — the KV data itself lives in the paged arenas of
 * {@code io.tandem.engine.kv}, addressed through each sequence's block table.
 *
 * <p>A scheduler drives one sequence like this:
 * <pre>{@code
 * KvSequence s = kv.newSequence(requestId, prompt);
 * kv.longestCachedPrefix(s);               // reuse cached blocks; s.computedTokens() = hit
 * if (!kv.allocateFor(s, chunk)) { ... }   // all-or-nothing: false changes nothing
 * // forward pass writes KV of positions [computed, computed + chunk) through s.blockTable()
 * kv.commitFullBlocks(s, s.computedTokens() + chunk);
 * s.appendToken(sampled);                  // then allocateFor(s, 1) ... for each decode step
 * kv.release(s);                           // finished, cancelled, failed or preempted
 * kv.flushEvents();                        // once per engine step
 * }</pre>
 * A preempted sequence is released and later admitted again with {@link #longestCachedPrefix},
 * which usually finds its own committed blocks still cached, so recompute is cheap.
 *
 * <p><b>The last token is always recomputed.</b> A prefix hit covers at most
 * {@code (tokenCount - 1) / blockSize} blocks: the model must run on at least the sequence's
 * last token to produce the logits of the next one, so a fully cached prompt still reuses all
 * but its last block (as vLLM does).
 *
 * <p><b>Duplicates.</b> Two sequences that compute the same prefix at the same time both fill
 * a block with the same hash. The first to commit caches it; the other's block stays a private
 * duplicate (no event, never matched) and becomes empty when released. Block tables therefore
 * only grow — a block id handed to the forward pass never changes under it.
 *
 * <p>Not thread-safe: owned by the engine's scheduler thread.
 */
public final class KvCacheManager {
    private final BlockPool pool;
    private final BlockHasher hasher;
    private final int blockSize;
    private final boolean prefixCaching;
    private long lookups, queriedTokens, hitTokens;

    /**
     * @param prefixCaching false disables lookups and caching (every block is private); the
     *                      equivalence tests compare the two modes
     */
    public KvCacheManager(BlockPool pool, BlockHasher hasher, boolean prefixCaching) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.hasher = Objects.requireNonNull(hasher, "hasher");
        this.blockSize = hasher.blockSize();
        this.prefixCaching = prefixCaching;
    }

    /** A manager with prefix caching over a new pool whose events are published to {@code sink} as {@code workerId}. */
    public static KvCacheManager create(int numBlocks, BlockHasher hasher, String workerId, KvEventSink sink) {
        return new KvCacheManager(new BlockPool(numBlocks, new KvEventLog(workerId, sink)), hasher, true);
    }

    public KvSequence newSequence(String id, int[] promptTokens) {
        return new KvSequence(Objects.requireNonNull(id, "id"), blockSize, promptTokens);
    }

    /**
     * Attaches the longest cached prefix of the sequence's tokens to its (empty) block table,
     * taking a reference on each block, and marks those tokens computed. Never covers the last
     * token (see the class comment). Returns the number of cached tokens, a multiple of the
     * block size. Needs no free block, so it cannot fail.
     */
    public int longestCachedPrefix(KvSequence seq) {
        if (seq.blockCount() > 0) throw new IllegalStateException(seq.id() + " already holds blocks; release it before a new lookup");
        int maxBlocks = Math.max(0, seq.tokenCount() - 1) / blockSize;
        int[] tokens = seq.tokenArray();
        int matched = 0;
        long parent = BlockHasher.ROOT;
        while (prefixCaching && matched < maxBlocks) {
            long hash = hasher.hashBlock(parent, tokens, matched * blockSize);
            int block = pool.lookup(hash);
            if (block < 0) break;
            pool.touch(block);
            seq.addBlock(block);
            seq.setHash(matched++, hash);
            parent = hash;
        }
        int hit = matched * blockSize;
        seq.setCommitted(matched, hit);
        seq.recordFirstHit(hit);
        lookups++;
        queriedTokens += seq.tokenCount();
        hitTokens += hit;
        return hit;
    }

    /** Blocks {@link #allocateFor} would have to take for {@code newTokens} more positions. */
    public int blocksNeeded(KvSequence seq, int newTokens) {
        int positions = seq.computedTokens() + newTokens;
        return Math.max(0, (positions + blockSize - 1) / blockSize - seq.blockCount());
    }

    /**
     * Grows the block table so positions {@code [computed, computed + newTokens)} have slots, continuing the run of
     * its last block where the pool allows ({@link BlockPool}, Placement). All-or-nothing: returns false, changing
     * nothing, when the pool cannot supply every block.
     */
    public boolean allocateFor(KvSequence seq, int newTokens) {
        if (newTokens < 0 || seq.computedTokens() + newTokens > seq.tokenCount()) {
            throw new IllegalArgumentException("cannot allocate for " + newTokens + " new tokens of " + seq);
        }
        int needed = blocksNeeded(seq, newTokens);
        if (needed == 0) return true;
        int[] blocks = pool.allocate(needed, seq.blockCount() == 0 ? -1 : seq.block(seq.blockCount() - 1));
        if (blocks == null) return false;
        for (int b : blocks) seq.addBlock(b);
        return true;
    }

    /**
     * Records that the sequence now has KV for its first {@code computedTokens} tokens and
     * caches every block that became full, emitting them as stored (chained to their parent).
     * A partial block is never cached.
     */
    public void commitFullBlocks(KvSequence seq, int computedTokens) {
        if (computedTokens < seq.computedTokens() || computedTokens > Math.min(seq.tokenCount(), seq.capacity())) {
            throw new IllegalArgumentException("cannot mark " + computedTokens + " tokens computed for " + seq);
        }
        int full = computedTokens / blockSize;
        int[] tokens = seq.tokenArray();
        long parent = seq.committedBlocks() == 0 ? BlockHasher.ROOT : seq.blockHash(seq.committedBlocks() - 1);
        for (int i = seq.committedBlocks(); i < full; i++) {
            long hash = hasher.hashBlock(parent, tokens, i * blockSize);
            seq.setHash(i, hash);
            if (prefixCaching) pool.cache(seq.block(i), hash, parent); // false for a duplicate: it stays private
            parent = hash;
        }
        seq.setCommitted(Math.max(full, seq.committedBlocks()), computedTokens);
    }

    /**
     * Drops the sequence's hold on all its blocks — last block first, so a finished sequence's
     * tail is evicted before the prefix other requests are likelier to share. Afterwards the
     * sequence holds nothing and can be admitted again (recompute after preemption). Idempotent.
     */
    public void release(KvSequence seq) {
        for (int i = seq.blockCount() - 1; i >= 0; i--) pool.free(seq.block(i));
        seq.clearBlocks();
    }

    /**
     * Empties the prefix cache (held blocks stay with their sequences, uncached) and emits a
     * clear, which {@link #flushEvents} then publishes.
     */
    public void reset() {
        pool.clearCache();
    }

    /** Publishes the events since the last flush as one batch; call once per engine step. */
    public boolean flushEvents() {
        return pool.events().flush();
    }

    /** Publishes a clear plus every cached block, for a consumer that asked to resync (it missed a batch). */
    public void publishSnapshot() {
        pool.emitSnapshot();
        pool.events().flush();
    }

    /** Blocks an allocation can take now (empty plus evictable cached blocks). */
    public int freeBlocks() {
        return pool.freeBlocks();
    }

    /** Blocks held by at least one sequence. */
    public int activeBlocks() {
        return pool.activeBlocks();
    }

    /** Blocks in the prefix cache, held or evictable. */
    public int cachedBlocks() {
        return pool.cachedBlocks();
    }

    public int totalBlocks() {
        return pool.numBlocks();
    }

    public int blockSize() {
        return blockSize;
    }

    public boolean prefixCaching() {
        return prefixCaching;
    }

    public PrefixCacheStats stats() {
        return new PrefixCacheStats(lookups, queriedTokens, hitTokens);
    }

    public BlockPool pool() {
        return pool;
    }
}
