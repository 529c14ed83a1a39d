package io.tandem.engine.cpu;

import io.tandem.engine.cache.PrefixCacheStats;

/**
 * Counters of a {@link CpuEngine} since it started, as of its last step.
 *
 * @param steps          forward passes run
 * @param computedTokens tokens run through the model (prefill chunks, recomputes and decodes)
 * @param stepNanos      time spent in steps (forward pass, sampling, delivery): over {@code steps}, the mean step
 * @param preemptions    sequences that lost their blocks and were recomputed
 * @param sending        prefill-only sequences done computing whose KV sends are still in flight (they hold blocks)
 * @param prefixCache    prefix-cache lookups and hits
 * @param cachedBlocks   blocks in the prefix cache now
 * @param freeBlocks     blocks an allocation could take now
 * @param totalBlocks    blocks of the KV cache
 */
public record CpuEngineStats(long steps, long computedTokens, long stepNanos, long preemptions, int sending, PrefixCacheStats prefixCache,
                             int cachedBlocks, int freeBlocks, int totalBlocks) {
}
