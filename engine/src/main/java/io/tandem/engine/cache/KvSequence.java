package io.tandem.engine.cache;

import java.util.Arrays;
import java.util.Objects;

/**
 * One sequence as the KV cache sees it: its token ids (prompt, then generated tokens), its
 * block table (block ids in position order: position {@code p} lives in block
 * {@code block(p / blockSize)}, slot {@code p % blockSize}), how many positions have KV
 * ({@link #computedTokens}) and how many leading full blocks are hashed ({@link #committedBlocks}).
 * Created by {@link KvCacheManager#newSequence}; its blocks change only through the manager.
 * The block table only ever grows until {@link KvCacheManager#release} empties it.
 */
public final class KvSequence {
    private final String id;
    private final int blockSize;
    private int[] tokens;
    private int tokenCount;
    private int[] blocks = new int[8];
    private int blockCount;
    private long[] hashes = new long[8];
    private int committedBlocks;
    private int computedTokens;
    private int cachedTokens = -1;

    KvSequence(String id, int blockSize, int[] promptTokens) {
        this.id = id;
        this.blockSize = blockSize;
        this.tokens = Arrays.copyOf(promptTokens, Math.max(16, promptTokens.length + promptTokens.length / 4));
        this.tokenCount = promptTokens.length;
    }

    public String id() {
        return id;
    }

    /** Adds a generated token; its KV is computed when it is fed to the model in a later step. */
    public void appendToken(int token) {
        if (tokenCount == tokens.length) tokens = Arrays.copyOf(tokens, tokens.length * 2);
        tokens[tokenCount++] = token;
    }

    public int tokenCount() {
        return tokenCount;
    }

    public int token(int i) {
        return tokens[Objects.checkIndex(i, tokenCount)];
    }

    /** A copy of the tokens {@code [from, to)}. */
    public int[] tokens(int from, int to) {
        Objects.checkFromToIndex(from, to, tokenCount);
        return Arrays.copyOfRange(tokens, from, to);
    }

    public int[] tokens() {
        return tokens(0, tokenCount);
    }

    public int blockCount() {
        return blockCount;
    }

    public int block(int i) {
        return blocks[Objects.checkIndex(i, blockCount)];
    }

    /** A copy of the block table. */
    public int[] blockTable() {
        return Arrays.copyOf(blocks, blockCount);
    }

    /** Positions the block table can hold. */
    public int capacity() {
        return blockCount * blockSize;
    }

    /** Leading tokens whose KV is in the blocks (from a prefix-cache hit or computed). */
    public int computedTokens() {
        return computedTokens;
    }

    /** Tokens that still need their KV computed before the model can produce the next logits. */
    public int uncomputedTokens() {
        return tokenCount - computedTokens;
    }

    /** Leading full blocks registered under their chained hashes (cached, or duplicates of cached blocks). */
    public int committedBlocks() {
        return committedBlocks;
    }

    /** The chained hash of committed block {@code i}. */
    public long blockHash(int i) {
        return hashes[Objects.checkIndex(i, committedBlocks)];
    }

    /**
     * Prompt tokens served from the prefix cache at the sequence's first admission — what
     * {@code usage.prompt_tokens_details.cached_tokens} reports. A recompute after preemption
     * does not change it. 0 before the first lookup.
     */
    public int cachedTokens() {
        return Math.max(cachedTokens, 0);
    }

    // ---- mutated by KvCacheManager only ----

    int[] tokenArray() {
        return tokens;
    }

    void addBlock(int block) {
        if (blockCount == blocks.length) blocks = Arrays.copyOf(blocks, blocks.length * 2);
        blocks[blockCount++] = block;
    }

    void setHash(int i, long hash) {
        if (i >= hashes.length) hashes = Arrays.copyOf(hashes, Math.max(hashes.length * 2, i + 1));
        hashes[i] = hash;
    }

    void setCommitted(int blocks, int computed) {
        committedBlocks = blocks;
        computedTokens = computed;
    }

    void recordFirstHit(int tokens) {
        if (cachedTokens < 0) cachedTokens = tokens;
    }

    void clearBlocks() {
        blockCount = 0;
        committedBlocks = 0;
        computedTokens = 0;
    }

    @Override
    public String toString() {
        return "KvSequence[" + id + ", tokens " + tokenCount + ", computed " + computedTokens + ", blocks " + blockCount
                + ", committed " + committedBlocks + "]";
    }
}
