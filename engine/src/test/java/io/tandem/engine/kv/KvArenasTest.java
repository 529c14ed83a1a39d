package io.tandem.engine.kv;

import io.tandem.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvArenasTest {
    private static final java.lang.foreign.ValueLayout.OfFloat F32_LE =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.foreign.ValueLayout.OfShort F16_LE =
            java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private static final ModelConfig CONFIG = new ModelConfig("llama", "t", 100, 512, 64, 3, 96, 4, 2, 16, 16, 16,
            10000f, ModelConfig.RopeScaling.NONE, 1e-5f);

    @Test
    void layoutSizesAndBudget() {
        KvLayout l = KvLayout.forModel(CONFIG, 16, KvDataType.F16, 10);
        assertEquals(32, l.tokenElements());
        assertEquals(16 * 32 * 2, l.blockBytes());
        assertEquals(2L * 3 * 16 * 32 * 2, l.bytesPerBlockAcrossLayers());
        assertEquals(10 * l.bytesPerBlockAcrossLayers(), l.totalBytes());
        assertEquals(3, l.blocksFor(33));

        long perBlock = KvLayout.forModel(CONFIG, 16, KvDataType.F32, 1).bytesPerBlockAcrossLayers();
        assertEquals(7, KvLayout.fromBudget(CONFIG, 16, KvDataType.F32, 7 * perBlock + perBlock - 1).numBlocks());
        assertEquals(14, KvLayout.fromBudget(CONFIG, 16, KvDataType.F16, 7 * perBlock).numBlocks());
        var e = assertThrows(IllegalArgumentException.class,
                () -> KvLayout.fromBudget(CONFIG, 16, KvDataType.F32, perBlock - 1));
        assertTrue(e.getMessage().contains("budget"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(KvDataType.class)
    void writesAreReadBackThroughTheBlockTable(KvDataType type) {
        KvLayout layout = KvLayout.forModel(CONFIG, 4, type, 12);
        Random rnd = new Random(1);
        try (KvArenas cache = KvArenas.allocate(layout)) {
            // two sequences with interleaved, out-of-order blocks
            int[] a = {7, 2, 9}, b = {0, 11, 3};
            int n = 11;
            float[][][] ka = new float[2][n][], va = new float[2][n][];
            for (int s = 0; s < 2; s++) {
                for (int p = 0; p < n; p++) {
                    ka[s][p] = random(rnd, 32);
                    va[s][p] = random(rnd, 32);
                    cache.write(1, s == 0 ? a : b, p, ka[s][p], 0, va[s][p], 0);
                }
            }
            for (int s = 0; s < 2; s++) {
                int[] table = s == 0 ? a : b;
                for (int head = 0; head < 2; head++) {
                    float[] k = new float[n * 16], v = new float[n * 16];
                    cache.readKeys(1, table, head, n, k);
                    cache.readValues(1, table, head, n, v);
                    long[] off = new long[n], blocks = new long[3];
                    cache.valueOffsets(table, head, n, off);
                    cache.keyBlockOffsets(table, head, n, blocks);
                    for (int p = 0; p < n; p++) {
                        int block = table[p / 4];
                        // values: [position][head][dim]; keys: [head][dim][position] inside a block
                        assertEquals(cache.blockOffset(block) + ((p % 4) * 32L + head * 16L) * type.bytes(), off[p]);
                        assertEquals(cache.blockOffset(block) + head * 16L * 4 * type.bytes(), blocks[p / 4]);
                        for (int d = 0; d < 16; d++) {
                            assertEquals(stored(type, ka[s][p][head * 16 + d]), k[p * 16 + d], "key " + s + "/" + p);
                            assertEquals(stored(type, va[s][p][head * 16 + d]), v[p * 16 + d], "value " + s + "/" + p);
                            long keyAt = blocks[p / 4] + (d * 4L + p % 4) * type.bytes();
                            float raw = type == KvDataType.F32 ? cache.keys(1).get(F32_LE, keyAt)
                                    : Float.float16ToFloat(cache.keys(1).get(F16_LE, keyAt));
                            assertEquals(stored(type, ka[s][p][head * 16 + d]), raw, "key " + s + "/" + p + " in memory");
                        }
                    }
                }
            }
            // other layers untouched
            float[] k0 = new float[n * 16];
            cache.readKeys(0, a, 0, n, k0);
            for (float f : k0) assertEquals(0f, f);
        }
    }

    private static float stored(KvDataType type, float v) {
        return type == KvDataType.F32 ? v : Float.float16ToFloat(Float.floatToFloat16(v));
    }

    @Test
    void badAddressesAreRejected() {
        try (KvArenas cache = KvArenas.allocate(KvLayout.forModel(CONFIG, 4, KvDataType.F32, 3))) {
            float[] kv = new float[32];
            assertThrows(IllegalArgumentException.class, () -> cache.write(0, new int[] {0}, 4, kv, 0, kv, 0));
            assertThrows(IllegalArgumentException.class, () -> cache.write(0, new int[] {3}, 0, kv, 0, kv, 0));
            assertThrows(IllegalArgumentException.class, () -> cache.write(0, new int[] {-1}, 0, kv, 0, kv, 0));
            assertThrows(IllegalArgumentException.class, () -> cache.valueOffsets(new int[] {0}, 0, 5, new long[5]));
            assertThrows(IllegalArgumentException.class, () -> cache.keyBlockOffsets(new int[] {0}, 0, 5, new long[2]));
        }
    }

    /** Records what the cache asks for: the hook the transfer layer uses to supply registered memory. */
    private static final class RecordingAllocator implements KvMemoryAllocator {
        final Arena arena = Arena.ofShared();
        final List<String> calls = new ArrayList<>();
        int failAfter = Integer.MAX_VALUE;
        boolean closed;

        @Override
        public MemorySegment allocate(int layer, Kind kind, long byteSize, long alignment) {
            if (calls.size() >= failAfter) throw new OutOfMemoryError("test: no more registered memory");
            calls.add(layer + " " + kind + " " + byteSize);
            return arena.allocate(byteSize, alignment);
        }

        @Override
        public void close() {
            closed = true;
            arena.close();
        }
    }

    @Test
    void arenasComeFromTheAllocatorWhichTheCacheCloses() {
        KvLayout layout = KvLayout.forModel(CONFIG, 16, KvDataType.F16, 5);
        RecordingAllocator alloc = new RecordingAllocator();
        KvArenas cache = KvArenas.allocate(layout, alloc);
        long size = layout.arenaBytes();
        assertEquals(List.of("0 KEYS " + size, "0 VALUES " + size, "1 KEYS " + size, "1 VALUES " + size,
                "2 KEYS " + size, "2 VALUES " + size), alloc.calls);
        assertEquals(size, cache.keys(2).byteSize());
        assertFalse(alloc.closed);
        cache.close();
        assertTrue(alloc.closed);
    }

    @Test
    void aFailedAllocationFreesWhatWasAllocated() {
        RecordingAllocator alloc = new RecordingAllocator();
        alloc.failAfter = 3;
        assertThrows(OutOfMemoryError.class,
                () -> KvArenas.allocate(KvLayout.forModel(CONFIG, 16, KvDataType.F32, 5), alloc));
        assertTrue(alloc.closed);
    }

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    @Test
    void valuesRoundTripExactlyInF32() {
        try (KvArenas cache = KvArenas.allocate(KvLayout.forModel(CONFIG, 16, KvDataType.F32, 1))) {
            float[] k = random(new Random(2), 32), v = random(new Random(3), 32);
            cache.write(2, new int[] {0}, 5, k, 0, v, 0);
            float[] out = new float[6 * 16];
            cache.readKeys(2, new int[] {0}, 1, 6, out);
            float[] got = java.util.Arrays.copyOfRange(out, 5 * 16, 6 * 16);
            assertArrayEquals(java.util.Arrays.copyOfRange(k, 16, 32), got);
        }
    }
}
