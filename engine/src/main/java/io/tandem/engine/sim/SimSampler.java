package io.tandem.engine.sim;

import io.tandem.engine.cache.KvSequence;
import io.tandem.engine.sample.Sample;
import io.tandem.engine.sample.Sampler;
import io.tandem.engine.sample.SequenceSampling;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;

/**
 * Samples the {@link SimTokenModel}'s candidates as the real {@link Sampler} samples a logits row: penalties over the
 * tokens generated so far, greedy below {@link Sampler#GREEDY_TEMPERATURE}, else temperature, min-p, top-k and top-p,
 * one draw from the sequence's seeded stream ({@link SequenceSampling#nextUniform()}, a function of seed and position),
 * so seeds, penalties and resumed requests behave as on the CPU engine. Logprobs are the log-softmax of the raw
 * candidate logits (tokens outside the candidates have probability 0). A handful of candidates, so no vocabulary-wide
 * row is ever built. One per engine thread: it keeps scratch arrays.
 */
final class SimSampler {
    private final SimTokenModel model;
    private final int[] ids = new int[SimTokenModel.CANDIDATES];
    private final float[] raw = new float[SimTokenModel.CANDIDATES];
    private final double[] weight = new double[SimTokenModel.CANDIDATES];
    private final int[] order = new int[SimTokenModel.CANDIDATES];

    SimSampler(SimTokenModel model) {
        this.model = model;
    }

    /** The next token of {@code context}, recorded in {@code seq}, with logprobs if asked. */
    Sample sample(KvSequence context, SequenceSampling seq) {
        SamplingParams p = seq.params();
        long h = model.contextHash(context);
        if (!p.ignoreEos() && model.endsHere(h)) {
            seq.observe(model.eosId());
            return new Sample(model.eosId(), null); // ends the sequence unemitted: no logprobs needed
        }
        int n = model.candidates(h, ids, raw);
        for (int i = 0; i < n; i++) {
            int c = seq.count(ids[i]);
            weight[i] = raw[i] - (c > 0 ? p.presencePenalty() + p.frequencyPenalty() * c : 0f);
        }
        int token = p.temperature() < Sampler.GREEDY_TEMPERATURE ? ids[argmax(n)] : random(n, p, seq.nextUniform());
        TokenLogprobs lp = p.logprobs() >= 0 ? logprobs(n, token, p.logprobs()) : null;
        seq.observe(token);
        return new Sample(token, lp);
    }

    /** Best penalised logit, ties to the lower id. */
    private int argmax(int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (weight[i] > weight[best] || (weight[i] == weight[best] && ids[i] < ids[best])) best = i;
        }
        return best;
    }

    private int random(int n, SamplingParams p, double u) {
        double max = weight[argmax(n)];
        for (int i = 0; i < n; i++) {
            double w = Math.exp((weight[i] - max) / p.temperature());
            weight[i] = p.minP() > 0f && w < Math.min(p.minP(), 1f) ? 0 : w;
        }
        int kept = rankByWeight(n);
        if (p.topK() > 0) kept = Math.min(kept, p.topK());
        if (p.topP() < 1f) {
            double total = 0, cum = 0;
            for (int j = 0; j < kept; j++) total += weight[order[j]];
            for (int j = 0; j < kept; j++) {
                cum += weight[order[j]];
                if (cum >= p.topP() * total) {
                    kept = j + 1;
                    break;
                }
            }
        }
        double total = 0;
        for (int j = 0; j < kept; j++) total += weight[order[j]];
        double r = u * total, acc = 0;
        for (int j = 0; j < kept; j++) {
            acc += weight[order[j]];
            if (r < acc) return ids[order[j]];
        }
        return ids[order[kept - 1]]; // rounding left r at the very end
    }

    /** Ranks the candidates with a positive weight, heaviest first (ties to the lower id); returns how many. */
    private int rankByWeight(int n) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!(weight[i] > 0)) continue;
            int j = k++;
            for (; j > 0 && ahead(weight[i], ids[i], weight[order[j - 1]], ids[order[j - 1]]); j--) order[j] = order[j - 1];
            order[j] = i;
        }
        return k;
    }

    /** Whether (value a, id a) ranks before (value b, id b): larger first, ties to the lower id. */
    private static boolean ahead(double a, int idA, double b, int idB) {
        return a > b || (a == b && idA < idB);
    }

    /** Log-softmax of the raw candidate logits: the token's and the {@code top} best (at most the candidates). */
    private TokenLogprobs logprobs(int n, int token, int top) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, raw[i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(raw[i] - max);
        double logZ = max + Math.log(sum);
        for (int i = 0; i < n; i++) {
            int j = i;
            for (; j > 0 && ahead(raw[i], ids[i], raw[order[j - 1]], ids[order[j - 1]]); j--) order[j] = order[j - 1];
            order[j] = i;
        }
        int m = Math.min(top, n);
        int[] topIds = new int[m];
        float[] topLps = new float[m];
        for (int j = 0; j < m; j++) {
            topIds[j] = ids[order[j]];
            topLps[j] = (float) (raw[order[j]] - logZ);
        }
        float lp = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) if (ids[i] == token) lp = (float) (raw[i] - logZ);
        return new TokenLogprobs(token, lp, topIds, topLps);
    }
}
