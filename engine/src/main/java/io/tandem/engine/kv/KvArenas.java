package io.tandem.engine.kv;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The paged KV cache's memory: per layer a K and a V arena of {@link KvLayout#numBlocks()} blocks, allocated through
 * a {@link KvMemoryAllocator}. A sequence addresses its positions through a block table (block ids in position
 * order): position {@code p} lives in block {@code table[p / blockSize]}, slot {@code p % blockSize}.
 * Which blocks are free or shared is not this class's concern (the block pool decides); it only stores and reads.
 * Writes to distinct positions and reads may run concurrently.
 */
public final class KvArenas implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long ALIGNMENT = 64;

    private final KvLayout layout;
    private final KvMemoryAllocator allocator;
    private final MemorySegment[] keys;
    private final MemorySegment[] values;

    private KvArenas(KvLayout layout, KvMemoryAllocator allocator, MemorySegment[] keys, MemorySegment[] values) {
        this.layout = layout;
        this.allocator = allocator;
        this.keys = keys;
        this.values = values;
    }

    /** A cache in plain off-heap memory. */
    public static KvArenas allocate(KvLayout layout) {
        return allocate(layout, KvMemoryAllocator.offHeap());
    }

    /** A cache whose arenas come from {@code allocator}, which it then owns (closing the cache closes it). */
    public static KvArenas allocate(KvLayout layout, KvMemoryAllocator allocator) {
        MemorySegment[] k = new MemorySegment[layout.layers()];
        MemorySegment[] v = new MemorySegment[layout.layers()];
        try {
            for (int l = 0; l < layout.layers(); l++) {
                k[l] = checked(allocator.allocate(l, KvMemoryAllocator.Kind.KEYS, layout.arenaBytes(), ALIGNMENT), layout);
                v[l] = checked(allocator.allocate(l, KvMemoryAllocator.Kind.VALUES, layout.arenaBytes(), ALIGNMENT), layout);
            }
        } catch (RuntimeException | Error e) {
            allocator.close();
            throw e;
        }
        return new KvArenas(layout, allocator, k, v);
    }

    private static MemorySegment checked(MemorySegment s, KvLayout layout) {
        if (s == null || s.byteSize() < layout.arenaBytes()) {
            throw new IllegalStateException("KV allocator returned " + (s == null ? "null" : s.byteSize() + " bytes")
                    + ", needed " + layout.arenaBytes());
        }
        return s.asSlice(0, layout.arenaBytes());
    }

    public KvLayout layout() {
        return layout;
    }

    /** The K arena of a layer (for registering with a transfer backend). */
    public MemorySegment keys(int layer) {
        return keys[layer];
    }

    /** The V arena of a layer. */
    public MemorySegment values(int layer) {
        return values[layer];
    }

    /** Byte offset of block {@code block} inside every arena; the block spans {@link KvLayout#blockBytes()}. */
    public long blockOffset(int block) {
        checkBlock(block);
        return block * layout.blockBytes();
    }

    /**
     * Stores one token's keys and values ({@link KvLayout#tokenElements()} floats each, head-major) of layer
     * {@code layer} at {@code position} of the sequence whose blocks are {@code blockTable}: the values as one row,
     * the keys element by element at their places in the block ({@link KvLayout}).
     */
    public void write(int layer, int[] blockTable, int position, float[] k, int kOff, float[] v, int vOff) {
        long off = tokenOffset(blockTable, position);
        store(values[layer], off, v, vOff, layout.tokenElements());
        int bs = layout.blockSize(), slot = position % bs;
        long elem = layout.type().bytes();
        long base = blockTable[position / bs] * layout.blockBytes() + slot * elem;
        MemorySegment arena = keys[layer];
        int n = layout.tokenElements();
        if (layout.type() == KvDataType.F32) {
            for (int i = 0; i < n; i++) arena.set(F32, base + (long) i * bs * 4, k[kOff + i]);
        } else {
            for (int i = 0; i < n; i++) arena.set(F16, base + (long) i * bs * 2, Float.floatToFloat16(k[kOff + i]));
        }
    }

    /**
     * Byte offsets, inside every V arena of this cache, of KV head {@code kvHead}'s value rows at positions
     * {@code [0, count)} of the sequence whose blocks are {@code blockTable}: {@code dst[p]}.
     */
    public void valueOffsets(int[] blockTable, int kvHead, int count, long[] dst) {
        int bs = layout.blockSize();
        long elem = layout.type().bytes();
        long headOff = (long) kvHead * layout.headDim() * elem;
        long tokenBytes = layout.tokenElements() * elem;
        checkTable(blockTable, count);
        for (int p = 0; p < count; ) {
            int block = blockTable[p / bs];
            checkBlock(block);
            long base = block * layout.blockBytes() + headOff;
            int end = Math.min(count, (p / bs + 1) * bs);
            for (; p < end; p++) dst[p] = base + (p % bs) * tokenBytes;
        }
    }

    /**
     * Byte offsets, inside every K arena of this cache, of KV head {@code kvHead}'s keys in each block holding
     * positions {@code [0, count)} of the sequence whose blocks are {@code blockTable}: {@code dst[i]} for block
     * {@code i} of the table. Element {@code d} of the key at position {@code p} is at
     * {@code dst[p / blockSize] + (d * blockSize + p % blockSize) * elementBytes}.
     */
    public void keyBlockOffsets(int[] blockTable, int kvHead, int count, long[] dst) {
        checkTable(blockTable, count);
        long headOff = (long) kvHead * layout.headDim() * layout.blockSize() * layout.type().bytes();
        for (int i = 0; i < layout.blocksFor(count); i++) {
            checkBlock(blockTable[i]);
            dst[i] = blockTable[i] * layout.blockBytes() + headOff;
        }
    }

    private void checkTable(int[] blockTable, int count) {
        if (layout.blocksFor(count) > blockTable.length) {
            throw new IllegalArgumentException("block table of " + blockTable.length + " blocks cannot hold " + count
                    + " positions");
        }
    }

    /** Copies the keys of KV head {@code kvHead} at positions {@code [0, count)} to {@code dst[p * headDim ..]}. */
    public void readKeys(int layer, int[] blockTable, int kvHead, int count, float[] dst) {
        int hd = layout.headDim(), bs = layout.blockSize();
        long elem = layout.type().bytes();
        long[] blocks = new long[layout.blocksFor(count)];
        keyBlockOffsets(blockTable, kvHead, count, blocks);
        MemorySegment arena = keys[layer];
        for (int p = 0; p < count; p++) {
            long at = blocks[p / bs] + (p % bs) * elem;
            for (int d = 0; d < hd; d++) {
                long o = at + (long) d * bs * elem;
                dst[p * hd + d] = layout.type() == KvDataType.F32 ? arena.get(F32, o) : Float.float16ToFloat(arena.get(F16, o));
            }
        }
    }

    /** Copies the values of KV head {@code kvHead} at positions {@code [0, count)} to {@code dst[p * headDim ..]}. */
    public void readValues(int layer, int[] blockTable, int kvHead, int count, float[] dst) {
        int hd = layout.headDim();
        long[] rows = new long[count];
        valueOffsets(blockTable, kvHead, count, rows);
        MemorySegment arena = values[layer];
        for (int p = 0; p < count; p++) {
            if (layout.type() == KvDataType.F32) {
                MemorySegment.copy(arena, F32, rows[p], dst, p * hd, hd);
            } else {
                for (int i = 0; i < hd; i++) dst[p * hd + i] = Float.float16ToFloat(arena.get(F16, rows[p] + 2L * i));
            }
        }
    }

    private void store(MemorySegment arena, long off, float[] src, int srcOff, int n) {
        if (layout.type() == KvDataType.F32) {
            MemorySegment.copy(src, srcOff, arena, F32, off, n);
        } else {
            for (int i = 0; i < n; i++) arena.set(F16, off + 2L * i, Float.floatToFloat16(src[srcOff + i]));
        }
    }

    private long tokenOffset(int[] blockTable, int position) {
        int bs = layout.blockSize();
        if (position < 0 || position / bs >= blockTable.length) {
            throw new IllegalArgumentException("position " + position + " is outside the block table ("
                    + blockTable.length + " blocks of " + bs + ")");
        }
        int block = blockTable[position / bs];
        checkBlock(block);
        return block * layout.blockBytes() + (long) (position % bs) * layout.tokenElements() * layout.type().bytes();
    }

    private void checkBlock(int block) {
        if (block < 0 || block >= layout.numBlocks()) {
            throw new IllegalArgumentException("block id " + block + " outside [0, " + layout.numBlocks() + ")");
        }
    }

    /** Frees the arenas (through the allocator). */
    @Override
    public void close() {
        allocator.close();
    }
}
