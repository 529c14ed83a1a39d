package io.tandem.engine.cache;

import io.tandem.protocol.BlockHasher;

import java.util.Arrays;
import java.util.Random;

/**
 * The prefix cache's hit rate under a shared-prefix load, to compare block pool policies (a tool, not a test):
 * {@code streams} sequences at a time, each one of {@code systems} 128-token system prompts (prompt k with weight
 * 1/(k+1)) plus 64 distinct tokens, decoding 16 to 111 tokens, on a pool of {@code blocks} 16-token blocks small enough
 * to evict. Prints the hit tokens over the looked-up tokens after 40,000 steps. Args: blocks systems [streams].
 */
public final class SharedPrefixHits {
    public static void main(String[] args) {
        int blocks = Integer.parseInt(args[0]), systems = Integer.parseInt(args[1]);
        int streams = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        KvCacheManager kv = new KvCacheManager(new BlockPool(blocks), new BlockHasher("shared-prefix", 16), true);
        Random random = new Random(7);
        int[][] system = new int[systems][128];
        for (int[] s : system) Arrays.setAll(s, i -> random.nextInt(32000));
        KvSequence[] running = new KvSequence[streams];
        int[] left = new int[streams];
        for (int step = 0, id = 0; step < 40_000; step++) {
            for (int s = 0; s < streams; s++) {
                if (running[s] == null) {
                    int k = Math.min(systems - 1, (int) Math.exp(random.nextDouble() * Math.log(systems + 1)) - 1);
                    int[] prompt = Arrays.copyOf(system[k], 192);
                    for (int i = 128; i < prompt.length; i++) prompt[i] = random.nextInt(32000);
                    running[s] = kv.newSequence("r" + id++, prompt);
                    kv.longestCachedPrefix(running[s]);
                    advance(kv, running[s], running[s].uncomputedTokens());
                    left[s] = 16 + random.nextInt(96);
                } else {
                    running[s].appendToken(random.nextInt(32000));
                    advance(kv, running[s], 1);
                    if (--left[s] == 0) {
                        kv.release(running[s]);
                        running[s] = null;
                    }
                }
            }
        }
        PrefixCacheStats stats = kv.stats();
        System.out.printf("%d blocks, %d system prompts, %d streams: %d of %d looked-up tokens hit (%.2f %%)%n", blocks,
                systems, streams, stats.hitTokens(), stats.queriedTokens(), 100 * stats.hitRate());
    }

    private static void advance(KvCacheManager kv, KvSequence s, int tokens) {
        if (!kv.allocateFor(s, tokens)) throw new IllegalStateException("the pool is too small for the streams");
        kv.commitFullBlocks(s, s.computedTokens() + tokens);
    }
}
