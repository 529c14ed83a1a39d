package io.tandem.engine.cache;

/** Prefix-cache lookups since the manager was created: how many prompt tokens were looked up and how many hit. */
public record PrefixCacheStats(long lookups, long queriedTokens, long hitTokens) {
    /** Fraction of looked-up tokens served from cache, 0 when nothing was looked up. */
    public double hitRate() {
        return queriedTokens == 0 ? 0 : (double) hitTokens / queriedTokens;
    }
}
