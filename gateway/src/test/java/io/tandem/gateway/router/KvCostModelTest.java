package io.tandem.gateway.router;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.*;

class KvCostModelTest {
    private static final RandomGenerator RANDOM = RandomGenerator.of("L64X128MixRandom");

    @Test
    void costIsUncachedBlocksPlusWeightedLoad() {
        KvCostModel m = new KvCostModel(1.0, 0.5, 0);
        assertEquals(3 + 0.5 * 8, m.cost(new KvCostModel.Candidate("a", 7, 8), 10));
        assertEquals(0.5 * 2, m.cost(new KvCostModel.Candidate("a", 12, 2), 10), "more cached than the prompt: nothing to prefill");
    }

    @Test
    void theCachedWorkerWinsUntilItsLoadOutweighsTheSavedPrefill() {
        KvCostModel m = new KvCostModel(1.0, 0.35, 0);
        // 9 of 11 blocks cached: moving away costs 9 blocks of prefill, worth 9 / 0.35 = 25.7 active blocks
        assertEquals(0, m.choose(List.of(new KvCostModel.Candidate("a", 9, 25), new KvCostModel.Candidate("b", 0, 0)), 11, RANDOM));
        assertEquals(1, m.choose(List.of(new KvCostModel.Candidate("a", 9, 26), new KvCostModel.Candidate("b", 0, 0)), 11, RANDOM));
    }

    @Test
    void tiesAreBrokenUniformly() {
        KvCostModel m = KvCostModel.DEFAULT;
        List<KvCostModel.Candidate> tied = List.of(new KvCostModel.Candidate("a", 0, 0), new KvCostModel.Candidate("b", 0, 0),
                new KvCostModel.Candidate("c", 0, 5));
        int[] picks = new int[3];
        for (int i = 0; i < 3_000; i++) picks[m.choose(tied, 4, RANDOM)]++;
        assertEquals(0, picks[2], "the loaded worker never wins");
        assertTrue(picks[0] > 1_300 && picks[1] > 1_300, "both tied workers get about half: " + picks[0] + "/" + picks[1]);
    }

    @Test
    void aTemperatureSpreadsNearlyEqualCosts() {
        KvCostModel m = new KvCostModel(1.0, 0.35, 1.0);
        List<KvCostModel.Candidate> near = List.of(new KvCostModel.Candidate("a", 4, 0), new KvCostModel.Candidate("b", 3, 0));
        int[] picks = new int[2];
        for (int i = 0; i < 2_000; i++) picks[m.choose(near, 4, RANDOM)]++;
        assertTrue(picks[1] > 200 && picks[0] > picks[1], "the cheaper wins more often, the other sometimes: " + picks[0] + "/" + picks[1]);
    }

    @Test
    void negativeWeightsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new KvCostModel(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new KvCostModel(1, -0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> new KvCostModel(1, 0, -1));
    }
}
