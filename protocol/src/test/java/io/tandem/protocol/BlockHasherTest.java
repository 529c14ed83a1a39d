package io.tandem.protocol;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class BlockHasherTest {
    private final BlockHasher hasher = new BlockHasher("fortune");

    private static int[] tokens(long seed, int n) {
        return new Random(seed).ints(n, 0, 32_000).toArray();
    }

    @Test
    void onlyFullBlocksAreHashed() {
        assertEquals(0, hasher.hashBlocks(new int[0]).length);
        assertEquals(0, hasher.hashBlocks(tokens(1, 15)).length);
        assertEquals(1, hasher.hashBlocks(tokens(1, 16)).length);
        assertEquals(3, hasher.hashBlocks(tokens(1, 63)).length);
    }

    @Test
    void samePrefixSameHashesRegardlessOfWhatFollows() {
        int[] a = tokens(7, 100);
        int[] b = Arrays.copyOf(a, 64);
        long[] ha = hasher.hashBlocks(a), hb = hasher.hashBlocks(b);
        assertArrayEquals(Arrays.copyOf(ha, 4), hb);
        assertArrayEquals(ha, new BlockHasher("fortune", 16).hashBlocks(a), "deterministic across instances");
    }

    @Test
    void aChangedBlockChangesItsHashAndEveryOneAfter() {
        int[] a = tokens(3, 80);
        int[] b = a.clone();
        b[2 * 16 + 5] ^= 1; // one token in block 2
        long[] ha = hasher.hashBlocks(a), hb = hasher.hashBlocks(b);
        assertArrayEquals(Arrays.copyOf(ha, 2), Arrays.copyOf(hb, 2));
        for (int i = 2; i < ha.length; i++) assertNotEquals(ha[i], hb[i], "block " + i);
    }

    @Test
    void hashIsChainedNotPositionFree() {
        // the same block content after different prefixes hashes differently
        int[] block = tokens(5, 16);
        int[] a = IntStream.concat(Arrays.stream(tokens(1, 16)), Arrays.stream(block)).toArray();
        int[] b = IntStream.concat(Arrays.stream(tokens(2, 16)), Arrays.stream(block)).toArray();
        assertNotEquals(hasher.hashBlocks(a)[1], hasher.hashBlocks(b)[1]);
        // and hashBlock reproduces the chain step by step
        long[] h = hasher.hashBlocks(a);
        assertEquals(h[0], hasher.hashBlock(BlockHasher.ROOT, a, 0));
        assertEquals(h[1], hasher.hashBlock(h[0], a, 16));
    }

    @Test
    void saltMatters() {
        int[] t = tokens(9, 48);
        long[] a = new BlockHasher("model-a").hashBlocks(t), b = new BlockHasher("model-b").hashBlocks(t);
        for (int i = 0; i < a.length; i++) assertNotEquals(a[i], b[i]);
    }

    @Test
    void blockSizeIsHonoured() {
        BlockHasher eight = new BlockHasher("fortune", 8);
        assertEquals(4, eight.hashBlocks(tokens(1, 35)).length);
        assertThrows(IllegalArgumentException.class, () -> new BlockHasher("m", 0));
    }

    @Test
    void noCollisionsAmongManyDistinctPrefixes() {
        var seen = new HashSet<Long>();
        for (int i = 0; i < 5_000; i++) {
            for (long h : hasher.hashBlocks(tokens(i, 32))) assertTrue(seen.add(h));
        }
    }
}
