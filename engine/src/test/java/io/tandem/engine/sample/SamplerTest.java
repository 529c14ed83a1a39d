package io.tandem.engine.sample;

import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SamplerTest {

    static SamplingParams params(float temperature, float topP, int topK, float minP, Long seed, float presence,
                                 float frequency, int logprobs) {
        return new SamplingParams(1000, temperature, topP, topK, minP, seed, presence, frequency, new int[0], false, logprobs);
    }

    static SamplingParams temp(float t, long seed) {
        return params(t, 1f, 0, 0f, seed, 0f, 0f, -1);
    }

    static float[] logitsOf(double... probs) {
        float[] x = new float[probs.length];
        for (int i = 0; i < probs.length; i++) x[i] = (float) Math.log(probs[i]);
        return x;
    }

    static float[] randomRow(Random rnd, int vocab) {
        float[] x = new float[vocab];
        for (int i = 0; i < vocab; i++) x[i] = (float) (rnd.nextGaussian() * 3);
        return x;
    }

    /** Draws {@code n} tokens, each from a fresh sequence with seed i, and counts them. */
    static int[] histogram(float[] logits, SamplingParams base, int n) {
        Sampler sampler = new Sampler(logits.length);
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) {
            var p = new SamplingParams(base.maxTokens(), base.temperature(), base.topP(), base.topK(), base.minP(), (long) i,
                    base.presencePenalty(), base.frequencyPenalty(), base.stopTokenIds(), base.ignoreEos(), base.logprobs());
            counts[sampler.sample(logits, new SequenceSampling(p)).token()]++;
        }
        return counts;
    }

    static void assertDistribution(double[] expected, int[] counts, int n, String what) {
        double[] chi = ReferenceDistribution.chiSquare(counts, expected, n);
        assertTrue(chi[0] < ReferenceDistribution.critical(chi[1]),
                what + ": chi-square " + chi[0] + " (df " + chi[1] + ") for counts " + Arrays.toString(counts)
                        + " against " + Arrays.toString(expected));
    }

    @Test
    void greedyIsArgmaxWithTiesToTheLowestId() {
        Sampler s = new Sampler(6);
        float[] x = {1f, 3f, -2f, 3f, Float.NEGATIVE_INFINITY, 2.9f};
        assertEquals(1, s.sample(x, new SequenceSampling(SamplingParams.greedy(5))).token());
        float[] allTied = {0f, 0f, 0f, 0f, 0f, 0f};
        assertEquals(0, s.sample(allTied, new SequenceSampling(SamplingParams.greedy(5))).token());
        float[] nanAndInf = {Float.NaN, Float.NEGATIVE_INFINITY, -1e30f, Float.NaN, -5f, Float.NEGATIVE_INFINITY};
        assertEquals(4, s.sample(nanAndInf, new SequenceSampling(SamplingParams.greedy(5))).token());
        assertEquals(4, s.sample(nanAndInf, new SequenceSampling(temp(1e-6f, 1))).token(), "tiny temperature is greedy");
        float[] hopeless = {Float.NaN, Float.NEGATIVE_INFINITY, Float.NaN, Float.NaN, Float.NaN, Float.NaN};
        assertThrows(IllegalStateException.class, () -> s.sample(hopeless, new SequenceSampling(SamplingParams.greedy(5))));
        assertThrows(IllegalStateException.class, () -> s.sample(hopeless, new SequenceSampling(temp(1f, 3))));
    }

    @Test
    void greedyMatchesArgmaxOnLargeRandomRows() {
        Random rnd = new Random(11);
        Sampler s = new Sampler(152_064);
        for (int trial = 0; trial < 5; trial++) {
            float[] x = randomRow(rnd, 152_064);
            int argmax = 0;
            for (int i = 1; i < x.length; i++) if (x[i] > x[argmax]) argmax = i;
            assertEquals(argmax, s.sample(x, new SequenceSampling(SamplingParams.greedy(1))).token());
        }
    }

    @Test
    void rowsOfABatchAreSampledInPlaceAndNeverModified() {
        Random rnd = new Random(5);
        int vocab = 300;
        float[] batch = new float[4 * vocab];
        for (int i = 0; i < batch.length; i++) batch[i] = (float) rnd.nextGaussian();
        float[] copy = batch.clone();
        Sampler s = new Sampler(vocab);
        var p = params(0.8f, 0.9f, 50, 0.01f, 7L, 0.5f, 0.5f, 3);
        for (int row = 0; row < 4; row++) {
            var alone = new SequenceSampling(p);
            alone.observe(row); // some history, so penalties apply
            var inBatch = new SequenceSampling(p);
            inBatch.observe(row);
            assertEquals(s.sample(Arrays.copyOfRange(batch, row * vocab, (row + 1) * vocab), alone),
                    s.sample(batch, row * vocab, inBatch));
        }
        assertArrayEquals(copy, batch, "the sampler works on a copy");
        assertThrows(IndexOutOfBoundsException.class, () -> s.sample(batch, 3 * vocab + 1, new SequenceSampling(p)));
    }

    /** A toy language model: the logits of the next token depend on the previous one. */
    static int[] generate(SamplingParams p, int steps) {
        Random table = new Random(99);
        float[][] rows = new float[101][];
        for (int i = 0; i < rows.length; i++) rows[i] = randomRow(table, 100);
        Sampler s = new Sampler(100);
        SequenceSampling seq = new SequenceSampling(p);
        int[] out = new int[steps];
        int prev = 100;
        for (int i = 0; i < steps; i++) prev = out[i] = s.sample(rows[prev], seq).token();
        return out;
    }

    @Test
    void sameSeedSameOutputDifferentSeedsDiffer() {
        var seeded = params(1.0f, 0.95f, 40, 0.0f, 1234L, 0.3f, 0.2f, -1);
        int[] a = generate(seeded, 64), b = generate(seeded, 64);
        assertArrayEquals(a, b);
        int[] c = generate(params(1.0f, 0.95f, 40, 0.0f, 1235L, 0.3f, 0.2f, -1), 64);
        assertFalse(Arrays.equals(a, c), "seed 1235 gave the same 64 tokens as 1234");
        int[] r1 = generate(params(1.0f, 1f, 0, 0f, null, 0f, 0f, -1), 64);
        int[] r2 = generate(params(1.0f, 1f, 0, 0f, null, 0f, 0f, -1), 64);
        assertFalse(Arrays.equals(r1, r2), "unseeded sequences should differ");
    }

    @Test
    void aSeededSequenceContinuesIdenticallyWhereverItResumes() {
        // e.g. the decode worker after a remote prefill: it observes the first token and continues
        Random rnd = new Random(3);
        float[][] rows = new float[10][];
        for (int i = 0; i < rows.length; i++) rows[i] = randomRow(rnd, 500);
        var p = params(0.9f, 1f, 0, 0f, 77L, 0.4f, 0f, -1);
        Sampler s = new Sampler(500);
        var whole = new SequenceSampling(p);
        int[] tokens = new int[rows.length];
        for (int i = 0; i < rows.length; i++) tokens[i] = s.sample(rows[i], whole).token();
        var resumed = new SequenceSampling(p);
        resumed.observe(tokens[0]);
        resumed.observe(tokens[1]);
        for (int i = 2; i < rows.length; i++) assertEquals(tokens[i], s.sample(rows[i], resumed).token(), "step " + i);
    }

    @Test
    void topKOneAndTinyTopPAreGreedy() {
        Random rnd = new Random(8);
        Sampler s = new Sampler(2000);
        for (int trial = 0; trial < 200; trial++) {
            float[] x = randomRow(rnd, 2000);
            int greedy = s.sample(x, new SequenceSampling(SamplingParams.greedy(1))).token();
            assertEquals(greedy, s.sample(x, new SequenceSampling(params(1.5f, 1f, 1, 0f, (long) trial, 0f, 0f, -1))).token());
            assertEquals(greedy, s.sample(x, new SequenceSampling(params(1.5f, 1e-6f, 0, 0f, (long) trial, 0f, 0f, -1))).token());
            assertEquals(greedy, s.sample(x, new SequenceSampling(params(1.5f, 1f, 0, 1f, (long) trial, 0f, 0f, -1))).token(),
                    "min-p 1 keeps only the most likely token");
        }
    }

    @Test
    void temperatureShapesTheDistribution() {
        double[] p = {0.5, 0.3, 0.15, 0.05};
        float[] x = logitsOf(p);
        int n = 20_000;
        for (float t : new float[] {1f, 0.5f, 2f}) {
            double[] expected = new double[p.length];
            double sum = 0;
            for (int i = 0; i < p.length; i++) sum += expected[i] = Math.pow(p[i], 1 / t);
            for (int i = 0; i < p.length; i++) expected[i] /= sum;
            assertDistribution(expected, histogram(x, temp(t, 0), n), n, "temperature " + t);
        }
        // a wrong temperature is caught: T=0.5 samples do not fit the T=1 distribution
        double[] chi = ReferenceDistribution.chiSquare(histogram(x, temp(0.5f, 0), n), p, n);
        assertTrue(chi[0] > ReferenceDistribution.critical(chi[1]), "the check can tell temperatures apart");
    }

    @Test
    void minPTopKAndTopPKeepTheRightTokens() {
        double[] p = {0.5, 0.3, 0.15, 0.05};
        float[] x = logitsOf(p);
        int n = 20_000;
        double[] firstTwo = {0.625, 0.375, 0, 0};
        assertDistribution(firstTwo, histogram(x, params(1f, 1f, 0, 0.5f, null, 0f, 0f, -1), n), n, "min-p 0.5");
        assertDistribution(firstTwo, histogram(x, params(1f, 1f, 2, 0f, null, 0f, 0f, -1), n), n, "top-k 2");
        assertDistribution(firstTwo, histogram(x, params(1f, 0.75f, 0, 0f, null, 0f, 0f, -1), n), n, "top-p 0.75");
        assertDistribution(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, histogram(x, params(1f, 0.9f, 0, 0f, null, 0f, 0f, -1), n), n,
                "top-p 0.9");
        assertDistribution(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, histogram(x, params(1f, 1f, 0, 0.2f, null, 0f, 0f, -1), n), n,
                "min-p 0.2 (0.05 < 0.1)");
        assertDistribution(p, histogram(x, params(1f, 1f, 10, 0f, null, 0f, 0f, -1), n), n, "top-k beyond the vocabulary is off");
        // equal weights: the nucleus takes just enough of them, by id (0.3 < 0.35 <= 0.4)
        double[] firstFour = {0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0, 0, 0};
        assertDistribution(firstFour, histogram(new float[10], params(1f, 0.35f, 0, 0f, null, 0f, 0f, -1), n), n, "top-p ties");
        double third = 1.0 / 3;
        assertDistribution(new double[] {third, third, third, 0, 0, 0, 0, 0, 0, 0}, // 7 kept, 2 < 0.35 * 7 <= 3
                histogram(new float[10], params(1f, 0.35f, 7, 0f, null, 0f, 0f, -1), n), n, "top-k then top-p ties");
        assertDistribution(firstFour, histogram(new float[10], params(1f, 1f, 4, 0f, null, 0f, 0f, -1), n), n, "top-k ties");
    }

    @Test
    void nucleusLargerThanTheFirstGuessOnAFullSizeVocabulary() {
        // 1000 equally likely tokens hold 99.9% of the mass: top-p 0.9 needs about 900 of them
        int vocab = 152_064;
        float[] x = new float[vocab];
        Arrays.fill(x, -30f);
        Random rnd = new Random(4);
        int[] high = rnd.ints(0, vocab).distinct().limit(1000).toArray();
        for (int id : high) x[id] = 0f;
        int[] sortedHigh = high.clone();
        Arrays.sort(sortedHigh);
        var p = params(1f, 0.9f, 0, 0f, null, 0f, 0f, -1);
        Sampler s = new Sampler(vocab);
        int maxRank = 0;
        for (int i = 0; i < 1000; i++) {
            int token = s.sample(x, new SequenceSampling(p)).token();
            int rank = Arrays.binarySearch(sortedHigh, token);
            assertTrue(rank >= 0, "sampled a token outside the nucleus: " + token);
            maxRank = Math.max(maxRank, rank);
        }
        assertTrue(maxRank >= 850 && maxRank < 902, "equal logits enter the nucleus by id; highest rank drawn " + maxRank);
    }

    @Test
    void penaltiesPushGeneratedTokensDown() {
        float[] x = {2.0f, 1.9f, 0f};
        Sampler s = new Sampler(3);
        var presence = new SequenceSampling(params(0f, 1f, 0, 0f, null, 0.5f, 0f, -1));
        assertEquals(0, s.sample(x, presence).token());
        assertEquals(1, s.sample(x, presence).token(), "2.0 - 0.5 < 1.9");
        assertEquals(1, presence.count(1));
        assertEquals(0, s.sample(x, presence).token(), "1.5 > 1.4: both seen once");
        assertEquals(0, s.sample(x, presence).token(), "presence does not grow with the count");
    }

    @Test
    void frequencyPenaltyGrowsWithCountAndNegativePenaltiesEncourage() {
        float[] x = {2.0f, 1.9f, 0f};
        Sampler s = new Sampler(3);
        var freq = new SequenceSampling(params(0f, 1f, 0, 0f, null, 0f, 0.06f, -1));
        freq.observe(0);
        assertEquals(0, s.sample(x, freq).token(), "2.0 - 0.06 > 1.9");
        assertEquals(2, freq.count(0));
        assertEquals(1, s.sample(x, freq).token(), "2.0 - 0.12 < 1.9");
        var encourage = new SequenceSampling(params(0f, 1f, 0, 0f, null, -1f, -1f, -1));
        encourage.observe(2);
        assertEquals(0, s.sample(x, encourage).token(), "0 + 1 + 1 ties 2.0: the lower id wins");
        var twice = new SequenceSampling(params(0f, 1f, 0, 0f, null, -1f, -1f, -1));
        twice.observe(2);
        twice.observe(2);
        assertEquals(2, s.sample(x, twice).token(), "0 + 1 + 2 > 2.0");
    }

    @Test
    void logprobsAreTheRawLogSoftmax() {
        Random rnd = new Random(21);
        int vocab = 1000;
        float[] x = randomRow(rnd, vocab);
        Sampler s = new Sampler(vocab);
        var seq = new SequenceSampling(params(0.7f, 0.9f, 0, 0f, 5L, 1f, 1f, 20));
        seq.observe(3);
        Sample sample = s.sample(x, seq);
        TokenLogprobs lp = sample.logprobs();
        double[] ref = ReferenceDistribution.softmax(toDouble(x), 1.0);
        assertEquals(Math.log(ref[sample.token()]), lp.logprob(), 1e-5, "untempered, unpenalised");
        assertEquals(sample.token(), lp.token());
        assertEquals(20, lp.topTokens().length);
        Integer[] byProb = java.util.stream.IntStream.range(0, vocab).boxed().sorted((a, b) -> Double.compare(ref[b], ref[a])).toArray(Integer[]::new);
        for (int j = 0; j < 20; j++) {
            assertEquals(byProb[j], lp.topTokens()[j]);
            assertEquals(Math.log(ref[byProb[j]]), lp.topLogprobs()[j], 1e-5);
            if (j > 0) assertTrue(lp.topLogprobs()[j] <= lp.topLogprobs()[j - 1]);
        }
        double total = 0;
        for (int t = 0; t < vocab; t++) total += Math.exp(s.logprobs(x, 0, t, 0).logprob());
        assertEquals(1.0, total, 1e-5);
    }

    @Test
    void logprobsOnlyWhenAskedAndTiesListedByLowerId() {
        Sampler s = new Sampler(4);
        float[] x = {1f, 2f, 2f, 0f};
        assertNull(s.sample(x, new SequenceSampling(SamplingParams.greedy(1))).logprobs());
        TokenLogprobs zero = s.sample(x, new SequenceSampling(params(0f, 1f, 0, 0f, null, 0f, 0f, 0))).logprobs();
        assertEquals(0, zero.topTokens().length);
        assertEquals(1, zero.token());
        TokenLogprobs all = s.sample(x, new SequenceSampling(params(0f, 1f, 0, 0f, null, 0f, 0f, 20))).logprobs();
        assertArrayEquals(new int[] {1, 2, 0, 3}, all.topTokens(), "capped at the vocabulary, ties by id");
        assertEquals(all.topLogprobs()[0], all.topLogprobs()[1]);
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}
