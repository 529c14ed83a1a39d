package io.tandem.engine.cache;

import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.kv.KvEvent;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class KvCacheManagerTest {
    private static final int BS = 4;
    private final BlockHasher hasher = new BlockHasher("test-model", BS);
    private final EventReplay replay = new EventReplay();
    private final KvCacheManager kv = new KvCacheManager(new BlockPool(16, new KvEventLog("w-1", replay, () -> 42L)), hasher, true);

    private static int[] range(int from, int to) {
        return IntStream.range(from, to).toArray();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Admits and fully prefills a sequence as a scheduler would, returning it still held. */
    private KvSequence prefill(String id, int[] prompt) {
        KvSequence s = kv.newSequence(id, prompt);
        kv.longestCachedPrefix(s);
        assertTrue(kv.allocateFor(s, s.uncomputedTokens()));
        kv.commitFullBlocks(s, s.tokenCount());
        return s;
    }

    @Test
    void sharedPrefixIsReusedAcrossSequences() {
        int[] system = range(100, 110); // 10 tokens: 2 full blocks + 2
        KvSequence a = prefill("a", concat(system, new int[] {1, 2, 3}));
        assertEquals(0, a.cachedTokens());
        assertEquals(3, a.committedBlocks(), "13 tokens fill 3 blocks; the 4th is partial and stays uncached");
        assertEquals(3, kv.cachedBlocks());

        KvSequence b = kv.newSequence("b", concat(system, new int[] {7, 8, 9, 10, 11}));
        assertEquals(8, kv.longestCachedPrefix(b), "the 2 blocks of the shared system prompt");
        assertEquals(8, b.cachedTokens());
        assertEquals(8, b.computedTokens());
        assertEquals(a.block(0), b.block(0));
        assertEquals(a.block(1), b.block(1));
        assertEquals(2, kv.pool().refCount(a.block(0)));
        assertEquals(a.blockHash(1), b.blockHash(1));
        assertTrue(kv.allocateFor(b, b.uncomputedTokens()));
        kv.commitFullBlocks(b, b.tokenCount());
        assertNotEquals(a.block(2), b.block(2), "the blocks after the shared prefix are each sequence's own");
        assertEquals(new PrefixCacheStats(2, 28, 8), kv.stats());

        kv.release(a);
        kv.release(b);
        assertEquals(16, kv.freeBlocks());
        assertEquals(0, kv.activeBlocks());
        kv.flushEvents();
        assertEquals(EventReplay.setOf(kv.pool().cachedHashes()), replay.hashes);
    }

    @Test
    void theLastTokenIsAlwaysRecomputed() {
        int[] prompt = range(0, 8); // exactly two blocks
        kv.release(prefill("a", prompt));
        KvSequence again = kv.newSequence("again", prompt);
        assertEquals(4, kv.longestCachedPrefix(again), "a fully cached prompt reuses all but its last block");
        assertEquals(4, again.uncomputedTokens());
        KvSequence longer = kv.newSequence("longer", concat(prompt, new int[] {9}));
        assertEquals(8, kv.longestCachedPrefix(longer));
        KvSequence single = kv.newSequence("single", new int[] {0});
        assertEquals(0, kv.longestCachedPrefix(single));
        KvSequence empty = kv.newSequence("empty", new int[0]);
        assertEquals(0, kv.longestCachedPrefix(empty));
    }

    @Test
    void storedEventsChainParentsAndCoalesce() {
        int[] prompt = range(0, 12);
        KvSequence s = prefill("a", prompt);
        kv.flushEvents();
        long[] expected = hasher.hashBlocks(prompt);
        assertEquals(List.of(new KvEvent.BlocksStored(expected, BlockHasher.ROOT)), replay.batches.getFirst().events());
        assertEquals("w-1", replay.batches.getFirst().workerId());
        assertEquals(42L, replay.batches.getFirst().timestampMillis());

        // decode: each generated token; a block is stored when it fills, chained to its parent
        for (int t = 0; t < 4; t++) {
            s.appendToken(50 + t);
            assertTrue(kv.allocateFor(s, 1));
            kv.commitFullBlocks(s, s.computedTokens() + 1);
        }
        assertTrue(kv.flushEvents());
        var last = (KvEvent.BlocksStored) replay.batches.getLast().events().getFirst();
        assertEquals(expected[2], last.parentHash());
        assertArrayEquals(hasher.hashBlocks(s.tokens()), new long[] {expected[0], expected[1], expected[2], last.hash(0)});
        assertFalse(kv.flushEvents(), "nothing pending, no empty batch");
    }

    @Test
    void failedAllocationChangesNothing() {
        KvSequence big = prefill("big", range(0, 48)); // 12 of 16 blocks
        kv.flushEvents();
        KvSequence s = kv.newSequence("s", range(1000, 1020)); // needs 5 blocks, 4 free
        kv.longestCachedPrefix(s);
        int free = kv.freeBlocks(), cached = kv.cachedBlocks(), active = kv.activeBlocks();
        assertFalse(kv.allocateFor(s, 20));
        assertEquals(0, s.blockCount());
        assertEquals(free, kv.freeBlocks());
        assertEquals(cached, kv.cachedBlocks());
        assertEquals(active, kv.activeBlocks());
        assertFalse(kv.flushEvents(), "no eviction happened");
        assertTrue(kv.allocateFor(s, 16), "a smaller chunk fits");
        assertThrows(IllegalArgumentException.class, () -> kv.allocateFor(s, 21), "more tokens than the sequence has");
        assertThrows(IllegalArgumentException.class, () -> kv.commitFullBlocks(s, 17), "beyond the allocated slots");
        kv.release(s);
        kv.release(big);
        assertEquals(16, kv.freeBlocks());
    }

    @Test
    void allocationEvictsLeastRecentlyReleasedTailFirst() {
        KvSequence a = prefill("a", range(0, 9));    // blocks a0 a1 cached, a2 partial
        KvSequence b = prefill("b", range(100, 109));
        long[] ha = hasher.hashBlocks(range(0, 9)), hb = hasher.hashBlocks(range(100, 109));
        kv.release(a);
        kv.release(b);
        kv.flushEvents();
        assertEquals(4, kv.cachedBlocks());
        assertEquals(16, kv.freeBlocks());
        KvSequence c = kv.newSequence("c", range(200, 256)); // 14 blocks: 12 empty + 2 evicted
        kv.longestCachedPrefix(c);
        assertTrue(kv.allocateFor(c, 56));
        kv.flushEvents();
        assertEquals(List.of(ha[1], ha[0]), replay.removedOrder(), "a was released first; its tail goes before its head");
        assertEquals(Arrays.stream(hb).boxed().collect(java.util.stream.Collectors.toSet()), replay.hashes);
        KvSequence b2 = kv.newSequence("b2", range(100, 109));
        assertEquals(8, kv.longestCachedPrefix(b2), "b's prefix survived");
    }

    @Test
    void concurrentIdenticalPrefillsAreDeduplicated() {
        int[] prompt = range(0, 10);
        KvSequence a = kv.newSequence("a", prompt), b = kv.newSequence("b", prompt);
        kv.longestCachedPrefix(a);
        kv.longestCachedPrefix(b); // both miss: nothing is computed yet
        assertTrue(kv.allocateFor(a, 10));
        assertTrue(kv.allocateFor(b, 10));
        kv.commitFullBlocks(a, 10);
        kv.commitFullBlocks(b, 10);
        kv.flushEvents();
        assertEquals(2, kv.cachedBlocks());
        assertEquals(2, replay.storedOrder().size(), "each hash stored once");
        assertEquals(a.blockHash(1), b.blockHash(1));
        assertEquals(a.block(0), kv.pool().lookup(a.blockHash(0)));
        kv.release(b);
        assertEquals(13, kv.pool().emptyBlocks(), "b's duplicates and partial block came back empty");
        assertEquals(0, kv.pool().evictableBlocks());
        kv.release(a);
        assertEquals(2, kv.pool().evictableBlocks());
        assertEquals(16, kv.freeBlocks());
    }

    @Test
    void preemptedSequenceRecomputesFromItsOwnCachedBlocks() {
        KvSequence s = prefill("s", range(0, 6));
        for (int t = 0; t < 5; t++) {
            s.appendToken(90 + t);
            assertTrue(kv.allocateFor(s, 1));
            kv.commitFullBlocks(s, s.computedTokens() + 1);
        }
        assertEquals(11, s.tokenCount());
        kv.release(s); // preempted
        assertEquals(0, s.blockCount());
        assertEquals(0, s.computedTokens());
        s.appendToken(99); // sampled before preemption, not yet computed
        assertEquals(8, kv.longestCachedPrefix(s), "prompt and generated tokens in full blocks are reused");
        assertEquals(0, s.cachedTokens(), "usage reports the first admission's hit, not the recompute's");
        assertTrue(kv.allocateFor(s, s.uncomputedTokens()));
        kv.commitFullBlocks(s, s.tokenCount());
        assertEquals(3, s.committedBlocks());
        kv.release(s);
        kv.release(s); // idempotent
        assertEquals(16, kv.freeBlocks());
    }

    @Test
    void resetClearsTheCacheButNotHeldBlocks() {
        KvSequence a = prefill("a", range(0, 8));
        kv.release(prefill("b", range(50, 58)));
        kv.reset();
        kv.flushEvents();
        assertEquals(List.of(new KvEvent.AllBlocksCleared()), replay.batches.getLast().events(),
                "events pending before a clear are dropped from the batch");
        assertEquals(0, kv.cachedBlocks());
        assertTrue(replay.hashes.isEmpty());
        assertEquals(2, kv.activeBlocks());
        KvSequence c = kv.newSequence("c", range(0, 9));
        assertEquals(0, kv.longestCachedPrefix(c));
        kv.release(a);
        kv.release(c);
        assertEquals(16, kv.freeBlocks());
    }

    @Test
    void snapshotLetsAConsumerResync() {
        kv.release(prefill("a", range(0, 13)));
        KvSequence b = prefill("b", concat(range(0, 8), range(70, 79)));
        kv.flushEvents();
        java.util.Set<Long> late = new java.util.HashSet<>(List.of(12345L)); // stale state of a consumer that missed batches
        int first = replay.batches.size();
        kv.publishSnapshot();
        for (var batch : replay.batches.subList(first, replay.batches.size())) EventReplay.applyLoose(late, batch);
        assertEquals(EventReplay.setOf(kv.pool().cachedHashes()), late);
        assertEquals(EventReplay.setOf(kv.pool().cachedHashes()), replay.hashes);
        assertEquals(5, kv.cachedBlocks());
        kv.release(b);
    }

    @Test
    void withoutPrefixCachingNothingIsSharedOrEmitted() {
        EventReplay none = new EventReplay();
        var plain = new KvCacheManager(new BlockPool(8, new KvEventLog("w", none)), hasher, false);
        int[] prompt = range(0, 12);
        KvSequence a = plain.newSequence("a", prompt);
        plain.longestCachedPrefix(a);
        assertTrue(plain.allocateFor(a, 12));
        plain.commitFullBlocks(a, 12);
        assertEquals(3, a.committedBlocks());
        plain.release(a);
        KvSequence b = plain.newSequence("b", prompt);
        assertEquals(0, plain.longestCachedPrefix(b));
        assertFalse(plain.flushEvents());
        assertEquals(0, plain.cachedBlocks());
        assertEquals(8, plain.freeBlocks());
    }

    @Test
    void lookupOnASequenceHoldingBlocksIsRefused() {
        KvSequence a = prefill("a", range(0, 5));
        assertThrows(IllegalStateException.class, () -> kv.longestCachedPrefix(a));
    }
}
