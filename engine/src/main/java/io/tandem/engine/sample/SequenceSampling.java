package io.tandem.engine.sample;

import io.tandem.protocol.SamplingParams;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The sampling state of one sequence: its parameters, the counts of the tokens it generated
 * (for presence and frequency penalties) and its random stream.
 *
 * <p>The random draw for the {@code n}-th generated token is the {@code n}-th value of a
 * {@link SplittableRandom} seeded with the request's seed — a function of (seed, n) only. So
 * the same seed gives the same output whether the sequence runs alone or batched, is preempted
 * and recomputed, or continues on a decode worker after a remote prefill (which
 * {@link #observe}s the first token). Without a seed the base is drawn at random.
 */
public final class SequenceSampling {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L; // SplittableRandom's own increment

    private final SamplingParams params;
    private final long seedBase;
    private final Map<Integer, Integer> slotOf = new HashMap<>();
    private int[] distinct = new int[16];
    private int[] counts = new int[16];
    private int distinctCount;
    private int generated;

    public SequenceSampling(SamplingParams params) {
        this.params = Objects.requireNonNull(params, "params");
        this.seedBase = params.seed() != null ? params.seed() : ThreadLocalRandom.current().nextLong();
    }

    public SamplingParams params() {
        return params;
    }

    /** Tokens generated so far. */
    public int generated() {
        return generated;
    }

    /** How often {@code token} was generated so far. */
    public int count(int token) {
        Integer slot = slotOf.get(token);
        return slot == null ? 0 : counts[slot];
    }

    /** Records a generated token (the sampler does this for the tokens it samples). */
    public void observe(int token) {
        Integer slot = slotOf.get(token);
        if (slot == null) {
            if (distinctCount == distinct.length) {
                distinct = Arrays.copyOf(distinct, distinctCount * 2);
                counts = Arrays.copyOf(counts, distinctCount * 2);
            }
            slot = distinctCount++;
            slotOf.put(token, slot);
            distinct[slot] = token;
        }
        counts[slot]++;
        generated++;
    }

    /** OpenAI penalties: {@code logit[t] -= presence * (count[t] > 0) + frequency * count[t]} over generated tokens. */
    void applyPenalties(float[] logits, int vocab) {
        float presence = params.presencePenalty(), frequency = params.frequencyPenalty();
        if (presence == 0f && frequency == 0f) return;
        for (int i = 0; i < distinctCount; i++) {
            int t = distinct[i];
            if (t >= 0 && t < vocab) logits[t] -= presence + frequency * counts[i];
        }
    }

    /** The uniform draw in [0, 1) for the next token: a function of the seed and {@link #generated()} only. */
    public double nextUniform() {
        return new SplittableRandom(seedBase + generated * GOLDEN_GAMMA).nextDouble();
    }
}
