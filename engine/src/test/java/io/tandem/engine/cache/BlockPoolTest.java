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
        assertArrayEquals(new int[] {a[2], a[0], a[1]}, got);
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
}
