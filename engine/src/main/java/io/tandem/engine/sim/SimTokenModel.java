package io.tandem.engine.sim;

import io.tandem.engine.cache.KvSequence;

import java.util.Arrays;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

/**
 * The simulated model: the next-token distribution as a pure function of the context, like a real model's, so a
 * request resumed elsewhere continues exactly as it would have. The context is summarised by its last full block's
 * chained hash (the prefix cache's, covering every token before it) mixed with the tokens after that block and the
 * length, which costs at most one block of work per token. From that hash come {@link #CANDIDATES} distinct tokens of
 * the model's real vocabulary (never control or end tokens) with falling logits, and whether this position is an
 * end of generation (probability {@code eosProbability}).
 */
final class SimTokenModel {
    /** Tokens with a non-zero probability at each position. */
    static final int CANDIDATES = 8;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long EOS_SALT = 0x5DEECE66DL;

    private final int[] sampleable;
    private final int[] eosIds;
    private final double eosProbability;
    private final int blockSize;

    SimTokenModel(int vocabSize, IntPredicate sampleable, int[] eosIds, double eosProbability, int blockSize) {
        this.eosIds = eosIds.clone();
        this.sampleable = IntStream.range(0, vocabSize)
                .filter(sampleable)
                .filter(id -> Arrays.stream(this.eosIds).noneMatch(e -> e == id))
                .toArray();
        if (this.sampleable.length == 0) throw new IllegalArgumentException("the vocabulary has no sampleable token");
        this.eosProbability = eosProbability;
        this.blockSize = blockSize;
    }

    /** The hash of the whole context; needs every full block of {@code context} committed (hashed). */
    long contextHash(KvSequence context) {
        int n = context.tokenCount();
        int full = n / blockSize;
        if (context.committedBlocks() < full) {
            throw new IllegalStateException(context + " has uncommitted full blocks: the context hash needs their hashes");
        }
        long h = full == 0 ? GOLDEN : context.blockHash(full - 1);
        for (int i = full * blockSize; i < n; i++) h = mix(h ^ (context.token(i) & 0xFFFFFFFFL));
        return mix(h + n * GOLDEN);
    }

    /** Whether the position after a context hashing to {@code h} ends generation. */
    boolean endsHere(long h) {
        if (eosIds.length == 0 || eosProbability <= 0) return false;
        return (mix(h ^ EOS_SALT) >>> 11) * 0x1.0p-53 < eosProbability;
    }

    int eosId() {
        return eosIds[0];
    }

    /**
     * Fills {@code ids} and {@code logits} (length {@link #CANDIDATES}) with the distinct candidates after a context
     * hashing to {@code h}, most likely first (logit 0, then falling by 0.25 to 1.75 each); returns how many.
     */
    int candidates(long h, int[] ids, float[] logits) {
        int k = 0;
        float logit = 0f;
        for (int j = 0; j < CANDIDATES; j++) {
            long x = mix(h + (j + 1) * GOLDEN);
            int id = sampleable[(int) Math.unsignedMultiplyHigh(x, sampleable.length)];
            if (contains(ids, k, id)) continue; // a collision: one candidate fewer
            ids[k] = id;
            logits[k++] = logit;
            logit -= 0.25f + 1.5f * ((x & 0xFFFF) / 65536f);
        }
        return k;
    }

    int sampleableCount() {
        return sampleable.length;
    }

    private static boolean contains(int[] a, int n, int v) {
        for (int i = 0; i < n; i++) if (a[i] == v) return true;
        return false;
    }

    /** A 64-bit finaliser (SplitMix64's): every input bit affects every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
