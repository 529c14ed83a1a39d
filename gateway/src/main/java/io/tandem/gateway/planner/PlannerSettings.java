package io.tandem.gateway.planner;

/**
 * The planner's constants (docs/PLANNER.md explains each).
 *
 * @param maxUtilisation    the busiest a worker is planned to be (headroom for bursts): 0.8
 * @param shortPromptTokens below this many uncached prompt tokens per request (mean), do not disaggregate: a prefill
 *                          that short fits in one scheduler chunk, stalls decodes for about one step, and a remote
 *                          prefill would add a queue hop and a KV transfer to every first token. 512
 * @param highPrefixHitRate from this prefix-cache hit rate on, do not disaggregate: most of each prompt is already in
 *                          the decode worker's cache (KV-aware routing put it there) and remote prefill would move work
 *                          the cache has mostly done. 0.8
 * @param defaultTtftMs     the TTFT target when the gateway has none (--slo-ttft-ms): 2000 ms, the rules' default
 * @param defaultTpotMs     the time-per-output-token target when the gateway has none (--slo-tpot-ms): 100 ms
 * @param maxBatch          the largest decode batch planned for a worker (a step time that does not grow with the batch
 *                          would otherwise allow any): 256
 */
public record PlannerSettings(double maxUtilisation, int shortPromptTokens, double highPrefixHitRate,
                              double defaultTtftMs, double defaultTpotMs, int maxBatch) {

    public static final PlannerSettings DEFAULTS = new PlannerSettings(0.8, 512, 0.8, 2000, 100, 256);

    public PlannerSettings {
        if (!(maxUtilisation > 0 && maxUtilisation <= 1)) throw new IllegalArgumentException("maxUtilisation must be in (0, 1]");
        if (shortPromptTokens < 0) throw new IllegalArgumentException("shortPromptTokens must be >= 0");
        if (!(highPrefixHitRate > 0 && highPrefixHitRate <= 1)) throw new IllegalArgumentException("highPrefixHitRate must be in (0, 1]");
        if (!(defaultTtftMs > 0) || !(defaultTpotMs > 0)) throw new IllegalArgumentException("default SLOs must be > 0 ms");
        if (maxBatch < 1) throw new IllegalArgumentException("maxBatch must be >= 1");
    }
}
