package io.tandem.engine.sample;

import io.tandem.protocol.SamplingParams;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sampler against {@link ReferenceDistribution} on random rows and random parameters. */
class SamplerPropertiesTest {

    @Property(tries = 60)
    void drawsFromTheReferenceDistribution(@ForAll long rowSeed,
                                           @ForAll @IntRange(min = 2, max = 40) int vocab,
                                           @ForAll @FloatRange(min = 0.2f, max = 2.5f) float temperature,
                                           @ForAll @IntRange(min = 0, max = 45) int topK,
                                           @ForAll @FloatRange(min = 0.05f, max = 1f) float topP,
                                           @ForAll @FloatRange(min = 0f, max = 0.6f) float minP,
                                           @ForAll @FloatRange(min = -1f, max = 1f) float presence,
                                           @ForAll @FloatRange(min = -1f, max = 1f) float frequency) {
        Random rnd = new Random(rowSeed);
        float[] x = SamplerTest.randomRow(rnd, vocab);
        int[] history = rnd.ints(rnd.nextInt(6), 0, vocab).toArray();
        var base = new SamplingParams(100, temperature, topP, topK, minP, null, presence, frequency, new int[0], false, -1);
        double[] expected = ReferenceDistribution.of(x, base, history);

        Sampler sampler = new Sampler(vocab);
        int n = 4000;
        int[] counts = new int[vocab];
        for (int i = 0; i < n; i++) {
            var p = new SamplingParams(100, temperature, topP, topK, minP, rowSeed + i, presence, frequency, new int[0], false, -1);
            var seq = new SequenceSampling(p);
            for (int t : history) seq.observe(t);
            counts[sampler.sample(x, seq).token()]++;
        }
        for (int t = 0; t < vocab; t++) assertTrue(counts[t] == 0 || expected[t] > 0, "token " + t + " is filtered out but was drawn");
        SamplerTest.assertDistribution(expected, counts, n, "random case");
    }
}
