package io.tandem.loadtests.serving;

import java.util.SplittableRandom;

/**
 * Distinct token-id prompts: prompt {@code i} is {@code length} ids drawn from {@code [FIRST_ID, vocab)} by a generator
 * seeded with {@code (seed, i)}, so every request of a run differs from the first token on (no server can serve one
 * from a cached prefix) and two servers given the same seed get the same prompts in the same order.
 *
 * @param vocab ids must stay below it (the model's vocabulary size)
 */
public record Prompts(long seed, int length, int vocab) {
    /** Above the special tokens of a SentencePiece llama vocabulary (unk, bos, eos). */
    public static final int FIRST_ID = 3;

    public Prompts {
        if (length < 1) throw new IllegalArgumentException("prompt length must be at least 1, got " + length);
        if (vocab <= FIRST_ID + 1) throw new IllegalArgumentException("vocab must be above " + (FIRST_ID + 1) + ", got " + vocab);
    }

    public int[] prompt(long index) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        return random.ints(length, FIRST_ID, vocab).toArray();
    }
}
