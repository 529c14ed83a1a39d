package io.tandem.engine.remote;

import java.util.ArrayList;
import java.util.List;

/**
 * Which blocks of a prefill go to the decode worker, and when: per layer, each block is sent once, as soon as that
 * layer's KV fills it — full blocks while the prompt is still being computed, the last partial block when the
 * prompt is complete. Blocks the decode worker already has (its prefix-cache hit, {@code firstPosition}) are never
 * sent; blocks the prefill worker had cached go out with the first layer report. Pure bookkeeping, one per request.
 */
public final class LayerwiseExportPlan {

    /** One block to copy: from the prefill engine's {@code localBlock} to the decode engine's {@code remoteBlock}. */
    public record BlockPair(int localBlock, int remoteBlock) {
    }

    private final int blockSize;
    private final int[] remoteBlocks;
    private final int promptTokens;
    private final int[] nextBlock;

    /**
     * @param remoteBlocks  the decode engine's block table for the whole prompt
     * @param firstPosition the first position the decode engine lacks (its prefix hit, a multiple of the block size)
     */
    public LayerwiseExportPlan(int blockSize, int layers, int[] remoteBlocks, int firstPosition, int promptTokens) {
        if (firstPosition % blockSize != 0 || firstPosition >= promptTokens) {
            throw new IllegalArgumentException("first position " + firstPosition + " must be a block boundary before the prompt end " + promptTokens);
        }
        if ((promptTokens + blockSize - 1) / blockSize > remoteBlocks.length) {
            throw new IllegalArgumentException(remoteBlocks.length + " decode blocks cannot hold a prompt of " + promptTokens + " tokens");
        }
        this.blockSize = blockSize;
        this.remoteBlocks = remoteBlocks.clone();
        this.promptTokens = promptTokens;
        this.nextBlock = new int[layers];
        java.util.Arrays.fill(nextBlock, firstPosition / blockSize);
    }

    public static LayerwiseExportPlan of(KvReservation r, int blockSize, int layers) {
        return new LayerwiseExportPlan(blockSize, layers, r.blockTable(), r.cachedTokens(), r.promptTokens().length);
    }

    /** The blocks of {@code layer} to send now that it holds KV for positions {@code [0, computedTokens)}. */
    public List<BlockPair> ready(int layer, int[] localBlocks, int computedTokens) {
        int computed = Math.min(computedTokens, promptTokens);
        int end = computed == promptTokens ? (promptTokens + blockSize - 1) / blockSize : computed / blockSize;
        List<BlockPair> out = new ArrayList<>(Math.max(0, end - nextBlock[layer]));
        for (int b = nextBlock[layer]; b < end; b++) out.add(new BlockPair(localBlocks[b], remoteBlocks[b]));
        nextBlock[layer] = Math.max(nextBlock[layer], end);
        return out;
    }

    /** Whether every layer's blocks up to the prompt end were handed out. */
    public boolean complete() {
        int last = (promptTokens + blockSize - 1) / blockSize;
        for (int b : nextBlock) if (b < last) return false;
        return true;
    }
}
