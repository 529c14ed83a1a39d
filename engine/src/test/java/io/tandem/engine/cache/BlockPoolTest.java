package io.tandem.engine.cache;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class BlockPoolTest {
    private final EventReplay replay = new EventReplay();
    private final BlockPool pool = new BlockPool(4, new KvEventLog("w", replay, () -> 0L));

    @Test
    void allocationIsAllOrNothing() {
        int[] a = pool.allocate(3);
        assertArrayEquals(new int[] {0, 1, 2}, a);
        assertNull(pool.allocate(2), "two blocks asked, one free");
        assertEquals(1, pool.freeBlocks());
        assertEquals(3, pool.activeBlocks());
        assertArrayEquals(new int[] {3}, pool.allocate(1));
        assertNull(pool.allocate(1));
        assertArrayEquals(new int[0], pool.allocate(0));
        assertThrows(IllegalArgumentException.class, () -> pool.allocate(-1));
        pool.verify();
    }

    @Test
    void refCountsAndDoubleFree() {
        int b = pool.allocate(1)[0];
        pool.cache(b, 11, 0);
        pool.touch(b);
        assertEquals(2, pool.refCount(b));
        pool.free(b);
        pool.free(b);
        assertEquals(0, pool.refCount(b));
        var e = assertThrows(IllegalStateException.class, () -> pool.free(b));
        assertTrue(e.getMessage().contains("freed more often"), e.getMessage());
        assertEquals(0, pool.refCount(b), "a refused free changes nothing");
        assertEquals(1, pool.evictableBlocks(), "a cached block at zero stays evictable");
        int empty = emptyBlock();
        assertThrows(IllegalStateException.class, () -> pool.touch(empty), "an empty block holds nothing to share");
        assertThrows(IllegalArgumentException.class, () -> pool.free(4));
        pool.verify();
    }

    private int emptyBlock() {
        for (int b = 0; b < pool.numBlocks(); b++) if (pool.refCount(b) == 0 && !pool.isCached(b)) return b;
        throw new AssertionError("no empty block");
    }

    @Test
    void freedCachedBlocksStayReusableUntilNeeded() {
        int[] a = pool.allocate(2);
        assertTrue(pool.cache(a[0], 100, 0));
        assertTrue(pool.cache(a[1], 101, 100));
        pool.free(a[1]);
        pool.free(a[0]);
        assertEquals(4, pool.freeBlocks());
        assertEquals(2, pool.evictableBlocks());
        assertEquals(2, pool.cachedBlocks());
        // empty blocks go first: the cache survives an allocation that fits beside it
        int[] b = pool.allocate(2);
        assertEquals(2, pool.cachedBlocks());
        assertEquals(a[0], pool.lookup(100));
        pool.touch(a[0]); // a hit revives an evictable block
        assertEquals(1, pool.freeBlocks());
        pool.free(a[0]);
        pool.free(b[0]);
        pool.free(b[1]);
        pool.verify();
    }

    @Test
    void evictsInOrderOfRelease() {
        int[] a = pool.allocate(4);
        for (int i = 0; i < 4; i++) pool.cache(a[i], 200 + i, i == 0 ? 0 : 199 + i);
        pool.free(a[2]);
        pool.free(a[0]);
        pool.free(a[3]);
        pool.free(a[1]);
        pool.touch(a[3]); // touched and released again: now the most recent
        pool.free(a[3]);
        int[] got = pool.allocate(3);
        assertArrayEquals(new int[] {a[0], a[1], a[2]}, got, "the three released first, in ascending order");
        pool.events().flush();
        assertEquals(List.of(202L, 200L, 201L), replay.removedOrder());
        assertEquals(EventReplay.setOf(pool.cachedHashes()), replay.hashes);
        assertEquals(1, pool.cachedBlocks());
        pool.verify();
    }

    @Test
    void duplicateHashIsNotCachedTwice() {
        int[] a = pool.allocate(2);
        assertTrue(pool.cache(a[0], 7, 0));
        assertFalse(pool.cache(a[1], 7, 0), "another block already holds hash 7");
        assertFalse(pool.cache(a[0], 8, 0), "a block is cached once");
        assertEquals(a[0], pool.lookup(7));
        pool.free(a[1]);
        assertEquals(3, pool.emptyBlocks(), "the duplicate went back empty, not evictable");
        assertEquals(0, pool.evictableBlocks());
        pool.free(a[0]);
        assertEquals(1, pool.evictableBlocks());
        pool.verify();
    }

    @Test
    void clearForgetsEveryHashAndKeepsHolders() {
        int[] a = pool.allocate(2);
        pool.cache(a[0], 1, 0);
        pool.cache(a[1], 2, 1);
        pool.free(a[1]);
        pool.clearCache();
        assertEquals(0, pool.cachedBlocks());
        assertEquals(1, pool.refCount(a[0]));
        assertEquals(-1, pool.lookup(1));
        assertEquals(3, pool.emptyBlocks());
        pool.free(a[0]);
        assertEquals(4, pool.emptyBlocks(), "a block cleared while held comes back empty");
        pool.events().flush();
        assertTrue(replay.hashes.isEmpty());
        pool.verify();
    }

    @Test
    void cachingNeedsAHeldBlock() {
        assertThrows(IllegalStateException.class, () -> pool.cache(0, 5, 0));
        assertThrows(IllegalArgumentException.class, () -> new BlockPool(0));
    }

    @Test
    void aSequenceGrowsIntoTheBlocksAfterItsLast() {
        BlockPool big = new BlockPool(16);
        int[] a = big.allocate(2); // 0, 1
        int[] b = big.allocate(1); // 2
        assertArrayEquals(new int[] {3, 4}, big.allocate(2, b[0]), "free blocks right after the last");
        assertArrayEquals(new int[] {5}, big.allocate(1, a[1]), "2 is held: the run breaks, the rest come as usual");
        big.free(b[0]); // 2 goes back empty, below others on the empty stack
        assertArrayEquals(new int[] {2, 6}, big.allocate(2, a[1]), "an empty block continues the run wherever it is");
        assertThrows(IllegalArgumentException.class, () -> big.allocate(1, 16));
        assertNull(big.allocate(11, 6), "all or nothing, hint or not");
        big.verify();
    }

    @Test
    void aRunTakesACachedBlockOnlyFromTheOlderHalfOfTheQueue() {
        BlockPool big = new BlockPool(12, new KvEventLog("w", replay, () -> 0L));
        int[] held = big.allocate(1); // 0: the sequence that grows
        int[] c = big.allocate(8);    // 1 .. 8 (hashes 300 .. 307), released 8 first (oldest) .. 1 last
        for (int i = 0; i < 8; i++) big.cache(c[i], 300 + i, 0);
        for (int i = 7; i >= 0; i--) big.free(c[i]);
        big.allocate(3); // 9, 10, 11: the empty ones go first
        assertEquals(0, big.emptyBlocks());
        // block 1 was released last (newest): the run must not take it; the oldest (8) goes instead
        assertArrayEquals(new int[] {8}, big.allocate(1, held[0]));
        // release stamps: block 8 0, 7 1, ..., 1 7; block 5's is 3, within the older half of 1 .. 7
        assertArrayEquals(new int[] {5}, big.allocate(1, 4));
        assertEquals(-1, big.lookup(304), "block 5 (hash 304) left the cache");
        big.free(held[0]); // an empty block again: now no cached block may go before its turn
        assertArrayEquals(new int[] {0}, big.allocate(1, 5), "block 6 (older half) stays: block 0 is empty");
        big.events().flush();
        assertEquals(List.of(307L, 304L), replay.removedOrder());
        big.verify();
    }

    @Test
    void aRunNeverTakesACachedBlockThatServedAHit() {
        BlockPool big = new BlockPool(12);
        int[] held = big.allocate(1);  // 0: the sequence that grows
        int[] c = big.allocate(8);     // 1 .. 8, cached
        for (int i = 0; i < 8; i++) big.cache(c[i], 400 + i, 0);
        big.free(8);                   // the oldest
        big.free(5);
        big.touch(5);                  // a prefix hit on block 5 ...
        big.free(5);                   // ... released again, second oldest now
        for (int b : new int[] {7, 6, 4, 3, 2, 1}) big.free(b);
        big.allocate(3);               // 9, 10, 11: no block is empty any more
        assertArrayEquals(new int[] {8}, big.allocate(1, 4), "block 5 is old enough but shared: the head goes");
        assertEquals(5, big.lookup(404));
        big.verify();
    }

    @Test
    void aPoolInUseKeepsSequencesInRuns() {
        // 16 streams of 256 + 128 tokens in 16-token blocks, prompts in chunks of 110: a c=16 serving load on the
        // benchmark model's 1,365-block pool, run long enough to go through the pool several times
        ClosedLoopPool loop = new ClosedLoopPool(1365, 16, 16, 256, 128, 110, 1).run(20_000);
        double share = 0;
        for (int i = 0; i < 40; i++) share += loop.run(50).adjacentShare() / 40;
        assertTrue(share > 0.45, "share of table entries followed by the next block: " + share);
        loop.kv().pool().verify();
    }
}
