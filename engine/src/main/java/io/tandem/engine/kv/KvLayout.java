package io.tandem.engine.kv;

import io.tandem.model.ModelConfig;

/**
 * The shape of a paged KV cache: for each of {@code layers} layers a K arena and a V arena, each {@code numBlocks}
 * blocks of little-endian elements of {@code type}. Block {@code b} of an arena is the contiguous byte range
 * {@code [b * blockBytes(), (b + 1) * blockBytes())}. Inside a block ({@link #KEY_ORDER}):
 * <ul>
 *   <li>values are {@code [blockSize][kvHeads][headDim]}: a position's value row of a head is contiguous, as the
 *       weighted sums read it;</li>
 *   <li>keys are {@code [kvHeads][headDim][blockSize]}: element {@code d} of a head's keys is contiguous over the
 *       block's positions, so one vector load gives it for many positions and the scores need no lane sums.</li>
 * </ul>
 * Two workers can exchange blocks only when their layouts are equal.
 */
public record KvLayout(int layers, int numBlocks, int blockSize, int kvHeads, int headDim, KvDataType type) {

    public static final int DEFAULT_BLOCK_SIZE = 16;
    /**
     * Names the order of the elements inside a block (above), for peers that exchange blocks: a worker that stores
     * keys in another order must not read these blocks.
     */
    public static final String KEY_ORDER = "keys [head][dim][position], values [position][head][dim]";

    public KvLayout {
        if (layers <= 0 || numBlocks <= 0 || blockSize <= 0 || kvHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV layout dimensions must be positive: layers " + layers + ", blocks "
                    + numBlocks + ", block size " + blockSize + ", kv heads " + kvHeads + ", head dim " + headDim);
        }
        if (type == null) throw new IllegalArgumentException("KV data type is required");
    }

    /** The layout for a model with {@code numBlocks} blocks. */
    public static KvLayout forModel(ModelConfig config, int blockSize, KvDataType type, int numBlocks) {
        if (config.valueDim() != config.headDim()) {
            throw new IllegalArgumentException("models whose value head size (" + config.valueDim()
                    + ") differs from the key head size (" + config.headDim() + ") are not supported");
        }
        return new KvLayout(config.blockCount(), numBlocks, blockSize, config.headCountKv(), config.headDim(), type);
    }

    /**
     * The layout holding as many blocks as fit in {@code budgetBytes}:
     * {@code numBlocks = budget / bytesPerBlockAcrossLayers}. Fails when not even one block fits.
     */
    public static KvLayout fromBudget(ModelConfig config, int blockSize, KvDataType type, long budgetBytes) {
        long perBlock = forModel(config, blockSize, type, 1).bytesPerBlockAcrossLayers();
        long blocks = budgetBytes / perBlock;
        if (blocks < 1) {
            throw new IllegalArgumentException("a KV memory budget of " + budgetBytes + " bytes holds no block of "
                    + perBlock + " bytes (" + blockSize + " tokens, all layers, K and V)");
        }
        return forModel(config, blockSize, type, (int) Math.min(blocks, Integer.MAX_VALUE));
    }

    /** Elements of one token of one layer (all KV heads). */
    public int tokenElements() {
        return kvHeads * headDim;
    }

    /** Bytes of one block in one arena (one layer, K or V). */
    public long blockBytes() {
        return (long) blockSize * tokenElements() * type.bytes();
    }

    /** Bytes of one arena (one layer, K or V). */
    public long arenaBytes() {
        return blockBytes() * numBlocks;
    }

    /** Bytes one block occupies over all layers, K and V. */
    public long bytesPerBlockAcrossLayers() {
        return 2L * layers * blockBytes();
    }

    /** Bytes of the whole cache. */
    public long totalBytes() {
        return bytesPerBlockAcrossLayers() * numBlocks;
    }

    /** Tokens the whole cache holds. */
    public long capacityTokens() {
        return (long) numBlocks * blockSize;
    }

    /** Blocks needed to hold {@code tokens} positions. */
    public int blocksFor(int tokens) {
        return (tokens + blockSize - 1) / blockSize;
    }
}
