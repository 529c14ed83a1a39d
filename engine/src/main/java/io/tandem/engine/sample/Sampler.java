package io.tandem.engine.sample;

import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;

import java.util.Arrays;
import java.util.Objects;

/**
 * Turns one row of logits into a token, following a sequence's {@link SamplingParams}:
 * <ol>
 *   <li>presence and frequency penalties over the tokens generated so far (OpenAI semantics);</li>
 *   <li>a temperature below {@link #GREEDY_TEMPERATURE} (vLLM's epsilon) is greedy: argmax,
 *       ties to the lowest id; top-k, top-p and min-p cannot change an argmax;</li>
 *   <li>otherwise each token's weight is {@code e^((logit - max) / T)} (its probability relative
 *       to the most likely token), then: min-p drops weights below {@code min_p}; top-k keeps
 *       the {@code k} heaviest; top-p keeps the smallest set of heaviest survivors whose share
 *       of the survivors' mass reaches {@code top_p}; one token is drawn from what remains,
 *       proportionally to weight, with the sequence's seeded draw.</li>
 * </ol>
 * Ranking ties go to the lower token id. Nothing sorts the vocabulary: top-k is a bounded heap,
 * and top-p buckets weights by their float exponent and top mantissa bits (buckets are ordered,
 * so only the bucket where the mass is reached needs ranking).
 *
 * <p><b>Logprobs</b> are the log-softmax of the raw model logits — before penalties and
 * temperature, like vLLM's default {@code raw_logprobs} — for the sampled token and the
 * {@code SamplingParams.logprobs} most likely tokens (best first, ties to the lower id).
 *
 * <p>Holds scratch buffers sized to the vocabulary: one sampler per engine thread, not shared.
 * The input row is never modified.
 */
public final class Sampler {
    /** Temperatures below this sample greedily. */
    public static final float GREEDY_TEMPERATURE = 1e-5f;
    private static final int BIN_SHIFT = 19; // a positive float's bits >>> 19: 8 exponent + 4 mantissa bits, ordered like the value
    private static final int BINS = 1 << (31 - BIN_SHIFT);
    private static final int FIRST_RANKING = 64;

    private final int vocab;
    private final ExpKernel exp;
    private final float[] work;
    private final float[] weights;
    private final int[] order;
    private final int[] boundary;
    private final int[] ranked;
    private final double[] binMass = new double[BINS];

    public Sampler(int vocabSize) {
        this(vocabSize, ExpKernel.best());
    }

    Sampler(int vocabSize, ExpKernel exp) {
        if (vocabSize < 1) throw new IllegalArgumentException("vocab size must be >= 1, got " + vocabSize);
        this.vocab = vocabSize;
        this.exp = exp;
        work = new float[vocabSize];
        weights = new float[vocabSize];
        order = new int[vocabSize];
        boundary = new int[vocabSize];
        ranked = new int[vocabSize];
    }

    public int vocabSize() {
        return vocab;
    }

    /** Samples from {@code logits[0, vocab)}. */
    public Sample sample(float[] logits, SequenceSampling seq) {
        return sample(logits, 0, seq);
    }

    /**
     * Samples from {@code logits[offset, offset + vocab)} (one row of a batch's logits), records
     * the token in {@code seq} and returns it with its logprobs if requested.
     *
     * @throws IllegalStateException if the row has no finite maximum (a broken model: all NaN or
     *                               minus infinity, or plus infinity)
     */
    public Sample sample(float[] logits, int offset, SequenceSampling seq) {
        Objects.checkFromIndexSize(offset, vocab, logits.length);
        SamplingParams p = seq.params();
        System.arraycopy(logits, offset, work, 0, vocab);
        seq.applyPenalties(work, vocab);
        int token = p.temperature() < GREEDY_TEMPERATURE ? greedy() : random(p, seq.nextUniform());
        TokenLogprobs lp = p.logprobs() >= 0 ? logprobs(logits, offset, token, p.logprobs()) : null;
        seq.observe(token);
        return new Sample(token, lp);
    }

    /**
     * Log-softmax of {@code logits[offset, offset + vocab)}: the logprob of {@code token} and the
     * {@code top} most likely tokens, best first.
     */
    public TokenLogprobs logprobs(float[] logits, int offset, int token, int top) {
        Objects.checkFromIndexSize(offset, vocab, logits.length);
        Objects.checkIndex(token, vocab);
        float max = logits[offset + checkedArgmax(logits, offset)];
        exp.weights(logits, offset, vocab, max, 1f, weights);
        double logZ = max + Math.log(sum(weights, vocab));
        int n = TopK.select(logits, offset, null, vocab, Math.min(top, vocab), Float.NEGATIVE_INFINITY, ranked);
        int[] ids = Arrays.copyOf(ranked, n);
        float[] lps = new float[n];
        for (int j = 0; j < n; j++) lps[j] = (float) (logits[offset + ids[j]] - logZ);
        return new TokenLogprobs(token, (float) (logits[offset + token] - logZ), ids, lps);
    }

    private int greedy() {
        return checkedArgmax(work, 0);
    }

    private int checkedArgmax(float[] x, int offset) {
        int best = TopK.argmax(x, offset, vocab);
        if (best < 0 || Float.isInfinite(x[offset + best])) {
            throw new IllegalStateException("logits row has no finite maximum (" + (best < 0 ? "all NaN" : x[offset + best]) + ")");
        }
        return best;
    }

    private int random(SamplingParams p, double u) {
        float max = work[greedy()];
        exp.weights(work, 0, vocab, max, 1f / p.temperature(), weights);
        if (p.minP() > 0f) {
            float cut = Math.min(p.minP(), 1f); // the most likely token has weight 1 and always stays
            for (int i = 0; i < vocab; i++) if (weights[i] < cut) weights[i] = 0f;
        }
        if (p.topK() > 0 && p.topK() < vocab) {
            int n = TopK.select(weights, 0, null, vocab, p.topK(), 0f, order);
            if (p.topP() < 1f) n = nucleusOfRanked(n, p.topP());
            return draw(order, n, u);
        }
        if (p.topP() < 1f) return draw(order, nucleus(p.topP()), u);
        return drawFromAll(u);
    }

    /** Top-p over {@code order[0..n)}, already ranked best first; returns how many to keep. */
    private int nucleusOfRanked(int n, float topP) {
        double total = 0;
        for (int j = 0; j < n; j++) total += weights[order[j]];
        double target = topP * total, cum = 0;
        for (int j = 0; j < n; j++) {
            cum += weights[order[j]];
            if (cum >= target) return j + 1;
        }
        return n;
    }

    /** Top-p over the whole vocabulary: writes the kept tokens to {@code order} and returns how many. */
    private int nucleus(float topP) {
        Arrays.fill(binMass, 0);
        for (int i = 0; i < vocab; i++) {
            float w = weights[i];
            if (w > 0f) binMass[Float.floatToRawIntBits(w) >>> BIN_SHIFT] += w;
        }
        double total = 0;
        for (double m : binMass) total += m;
        double target = topP * total, above = 0;
        int edge = 0; // the bucket where the kept mass reaches the target (bucket 0 if rounding never lets it)
        for (int b = BINS - 1; b >= 0; b--) {
            if (above + binMass[b] >= target) {
                edge = b;
                break;
            }
            above += binMass[b];
        }
        int kept = 0, tied = 0;
        for (int i = 0; i < vocab; i++) {
            float w = weights[i];
            if (!(w > 0f)) continue;
            int b = Float.floatToRawIntBits(w) >>> BIN_SHIFT;
            if (b > edge) order[kept++] = i;
            else if (b == edge) boundary[tied++] = i;
        }
        // Rank the edge bucket only as far as needed: its heaviest tokens until the target is met.
        double need = target - above;
        for (int g = Math.min(tied, FIRST_RANKING); ; g = (int) Math.min(tied, g * 8L)) {
            int m = TopK.select(weights, 0, boundary, tied, g, 0f, ranked);
            double cum = 0;
            for (int j = 0; j < m; j++) {
                cum += weights[ranked[j]];
                if (cum >= need || (j == m - 1 && m == tied)) {
                    System.arraycopy(ranked, 0, order, kept, j + 1);
                    return kept + j + 1;
                }
            }
            if (m == tied) return kept; // empty edge bucket
        }
    }

    /** Draws among {@code ids[0..n)} proportionally to weight. */
    private int draw(int[] ids, int n, double u) {
        double total = 0;
        for (int j = 0; j < n; j++) total += weights[ids[j]];
        double r = u * total, acc = 0;
        int last = ids[0];
        for (int j = 0; j < n; j++) {
            float w = weights[ids[j]];
            if (w <= 0f) continue;
            acc += w;
            last = ids[j];
            if (r < acc) return last;
        }
        return last; // rounding left r at the very end
    }

    private int drawFromAll(double u) {
        double r = u * sum(weights, vocab), acc = 0;
        int last = -1;
        for (int i = 0; i < vocab; i++) {
            float w = weights[i];
            if (w <= 0f) continue;
            acc += w;
            last = i;
            if (r < acc) return i;
        }
        return last;
    }

    private static double sum(float[] w, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += w[i];
            s1 += w[i + 1];
            s2 += w[i + 2];
            s3 += w[i + 3];
        }
        for (; i < n; i++) s0 += w[i];
        return (s0 + s1) + (s2 + s3);
    }
}
