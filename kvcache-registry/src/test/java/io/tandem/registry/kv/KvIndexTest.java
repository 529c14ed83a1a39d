package io.tandem.registry.kv;

import io.tandem.protocol.kv.KvEvent;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvIndexTest {

    private static KvEvent stored(long... hashes) {
        return new KvEvent.BlocksStored(hashes, 0);
    }

    @Test
    void longestPrefixPerWorker() {
        KvIndex index = new KvIndex();
        index.apply("a", stored(1, 2, 3, 4));
        index.apply("b", stored(1, 2));
        index.apply("c", stored(2, 3, 4)); // holds later blocks but not the first: no prefix
        assertEquals(Map.of("a", 4, "b", 2), index.prefixBlocks(new long[] {1, 2, 3, 4, 5}));
        assertEquals(Map.of("a", 3, "b", 2), index.prefixBlocks(new long[] {1, 2, 3}));
        assertEquals(Map.of(), index.prefixBlocks(new long[] {9, 1, 2}));
        assertEquals(Map.of(), index.prefixBlocks(new long[0]));
    }

    @Test
    void removeClearAndWorkerRemoval() {
        KvIndex index = new KvIndex();
        index.apply("a", stored(1, 2, 3));
        index.apply("b", stored(1, 2, 3));
        index.apply("a", new KvEvent.BlocksRemoved(new long[] {2}));
        assertEquals(Map.of("a", 1, "b", 3), index.prefixBlocks(new long[] {1, 2, 3}));
        index.apply("b", new KvEvent.AllBlocksCleared());
        assertEquals(Map.of("a", 1), index.prefixBlocks(new long[] {1, 2, 3}));
        assertEquals(2, index.size(), "hashes 1 and 3 (a) remain");
        index.removeWorker("a");
        assertEquals(0, index.size());
        assertEquals(0, index.entries());
        assertFalse(index.holds("a", 1));
        // slots are reused: a new worker does not inherit anything
        index.apply("d", stored(7));
        assertTrue(index.holds("d", 7));
        assertEquals(Map.of("d", 1), index.prefixBlocks(new long[] {7}));
    }

    @Test
    void manyWorkersBeyondOneWordOfBits() {
        KvIndex index = new KvIndex();
        for (int w = 0; w < 150; w++) index.apply("w" + w, stored(100, 200 + (w % 3)));
        Map<String, Integer> p = index.prefixBlocks(new long[] {100, 201});
        assertEquals(150, p.size());
        assertEquals(50, p.values().stream().filter(v -> v == 2).count(), "every third worker holds the second block");
        assertEquals(2, p.get("w1"));
        assertEquals(1, p.get("w149"));
    }
}
