package io.tandem.engine.cache;

import io.tandem.protocol.BlockHasher;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A block pool in use as serving uses it, without an engine: {@code streams} sequences at a time, each a distinct
 * prompt prefilled in chunks (one chunk a step, as the scheduler's token budget allows) and then decoded a token a
 * step until it has {@code output} more; a finished sequence is released and a new one takes its place (a closed
 * loop). Prefix caching is on, so released blocks queue for eviction as they do in a worker. The tests and the
 * decode-attention benchmark read the block tables it leaves.
 */
public final class ClosedLoopPool {
    private final KvCacheManager kv;
    private final int prompt, output, chunk;
    private final KvSequence[] running;
    private final Random random;
    private int started;

    public ClosedLoopPool(int numBlocks, int blockSize, int streams, int prompt, int output, int chunk, long seed) {
        this.kv = new KvCacheManager(new BlockPool(numBlocks), new BlockHasher("closed-loop", blockSize), true);
        this.prompt = prompt;
        this.output = output;
        this.chunk = chunk;
        this.running = new KvSequence[streams];
        this.random = new Random(seed);
        for (int i = 0; i < streams; i++) running[i] = admit();
    }

    private KvSequence admit() {
        int[] tokens = new int[prompt];
        for (int i = 0; i < prompt; i++) tokens[i] = random.nextInt(32000);
        KvSequence s = kv.newSequence("s" + started++, tokens);
        kv.longestCachedPrefix(s);
        return s;
    }

    /** Runs {@code steps} engine steps. */
    public ClosedLoopPool run(int steps) {
        for (int step = 0; step < steps; step++) step();
        return this;
    }

    private void step() {
        KvSequence prefilling = null;
        for (KvSequence s : running) {
            if (s.uncomputedTokens() > 0 && s.computedTokens() < prompt) {
                prefilling = s;
                break;
            }
        }
        if (prefilling != null) advance(prefilling, Math.min(chunk, prompt - prefilling.computedTokens()));
        for (KvSequence s : running) {
            if (s != prefilling && s.computedTokens() >= prompt) {
                s.appendToken(random.nextInt(32000));
                advance(s, 1);
            }
        }
        for (int i = 0; i < running.length; i++) {
            if (running[i].tokenCount() >= prompt + output) {
                kv.release(running[i]);
                running[i] = admit();
            }
        }
    }

    private void advance(KvSequence s, int tokens) {
        if (!kv.allocateFor(s, tokens)) throw new IllegalStateException("the pool is too small for the streams");
        kv.commitFullBlocks(s, s.computedTokens() + tokens);
    }

    /**
     * {@code count} block tables of {@code blocks} blocks each, no block in two of them: the first {@code blocks} of
     * running sequences that have that many, taken every 50 steps while running on (one decode step's worth of
     * sequences as the pool places them).
     */
    public int[][] tables(int count, int blocks) {
        List<int[]> out = new ArrayList<>();
        Set<Integer> used = new HashSet<>();
        for (int round = 0; out.size() < count; round++) {
            if (round == 1000) throw new IllegalStateException("no " + count + " disjoint tables of " + blocks);
            for (KvSequence s : running) {
                if (out.size() == count || s.blockCount() < blocks) continue;
                int[] t = Arrays.copyOf(s.blockTable(), blocks);
                if (Arrays.stream(t).noneMatch(used::contains)) {
                    out.add(t);
                    for (int b : t) used.add(b);
                }
            }
            run(50);
        }
        return out.toArray(int[][]::new);
    }

    /** The share of consecutive entries of the running sequences' block tables that are consecutive blocks. */
    public double adjacentShare() {
        int pairs = 0, adjacent = 0;
        for (KvSequence s : running) {
            for (int i = 1; i < s.blockCount(); i++) {
                pairs++;
                if (s.block(i) == s.block(i - 1) + 1) adjacent++;
            }
        }
        return pairs == 0 ? 0 : (double) adjacent / pairs;
    }

    public KvCacheManager kv() {
        return kv;
    }
}
