package io.tandem.protocol;

import net.openhft.hashing.LongHashFunction;

import java.util.Objects;

/**
 * The chained 64-bit hash of full KV blocks: {@code h_i = xxh3(salt)(h_{i-1}, tokens of block i)}
 * with {@code h_{-1} = ROOT}. A block's hash therefore identifies the whole prefix up to and
 * including it, which is what makes the gateway's router, the registry and every worker's
 * prefix cache agree on "this worker holds this prefix". Salted by the model name so equal
 * token ids of different models never collide. Thread-safe.
 */
public final class BlockHasher {
    public static final int DEFAULT_BLOCK_SIZE = 16;
    /** Parent of the first block. */
    public static final long ROOT = 0L;

    private final String model;
    private final int blockSize;
    private final LongHashFunction fn;

    public BlockHasher(String model, int blockSize) {
        this.model = Objects.requireNonNull(model, "model");
        if (blockSize < 1) throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        this.blockSize = blockSize;
        this.fn = LongHashFunction.xx3(LongHashFunction.xx3().hashChars(model));
    }

    public BlockHasher(String model) {
        this(model, DEFAULT_BLOCK_SIZE);
    }

    public String model() {
        return model;
    }

    public int blockSize() {
        return blockSize;
    }

    /** Number of full blocks in {@code tokenCount} tokens. */
    public int fullBlocks(int tokenCount) {
        return tokenCount / blockSize;
    }

    /** Hashes of every full block of {@code tokens}, in order; a trailing partial block is not hashed. */
    public long[] hashBlocks(int[] tokens) {
        long[] out = new long[fullBlocks(tokens.length)];
        int[] scratch = new int[blockSize + 2];
        long parent = ROOT;
        for (int b = 0; b < out.length; b++) {
            parent = hash(parent, tokens, b * blockSize, scratch);
            out[b] = parent;
        }
        return out;
    }

    /** Hash of the block of {@code blockSize} tokens at {@code offset} whose predecessor hashed to {@code parent}. */
    public long hashBlock(long parent, int[] tokens, int offset) {
        Objects.checkFromIndexSize(offset, blockSize, tokens.length);
        return hash(parent, tokens, offset, new int[blockSize + 2]);
    }

    // Parent and tokens are hashed as one int run, so the hash reads no allocated key object.
    private long hash(long parent, int[] tokens, int offset, int[] scratch) {
        scratch[0] = (int) (parent >>> 32);
        scratch[1] = (int) parent;
        System.arraycopy(tokens, offset, scratch, 2, blockSize);
        return fn.hashInts(scratch);
    }
}
