package io.tandem.engine.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepCostModelTest {
    private static final long MS = 1_000_000;

    /** 5 ms per step plus 1.25 ms per token. */
    private static long cost(int tokens) {
        return 5 * MS + tokens * 1_250_000L;
    }

    @Test
    void knowsNothingBeforeTheFirstStep() {
        StepCostModel m = new StepCostModel();
        assertFalse(m.calibrated());
        assertEquals(-1, m.tokensWithin(100 * MS));
        assertEquals(0, m.predictNanos(64));
    }

    @Test
    void fitsTheFixedAndPerTokenCostOfStepsOfDifferentSizes() {
        StepCostModel m = new StepCostModel();
        for (int tokens : new int[] {1, 8, 512, 9, 70, 16, 256, 8}) m.observe(tokens, cost(tokens));
        assertArrayEquals(new double[] {5 * MS, 1_250_000}, m.line(), 1);
        assertEquals(cost(100), m.predictNanos(100), 1);
        assertEquals(76, m.tokensWithin(100 * MS), "(100 - 5) / 1.25 = 76 tokens");
        assertEquals(0, m.tokensWithin(4 * MS), "less than the fixed cost: no token fits");
    }

    @Test
    void stepsOfOneSizeGiveATimeProportionalToTokens() {
        StepCostModel m = new StepCostModel();
        for (int i = 0; i < 10; i++) m.observe(8, cost(8)); // 15 ms for 8 tokens: no way to tell fixed from per token
        assertArrayEquals(new double[] {0, cost(8) / 8.0}, m.line(), 1e-6);
        // 1.875 ms per token: 53 tokens within 100 ms, fewer than the 76 that really fit (the safe side)
        assertEquals(53, m.tokensWithin(100 * MS));
    }

    @Test
    void followsTheMachineWhenStepsGetSlower() {
        StepCostModel m = new StepCostModel();
        for (int i = 0; i < 20; i++) for (int tokens : new int[] {8, 80}) m.observe(tokens, cost(tokens));
        int before = m.tokensWithin(100 * MS);
        for (int i = 0; i < 60; i++) for (int tokens : new int[] {8, 80}) m.observe(tokens, 2 * cost(tokens)); // a neighbour took half the CPU
        assertEquals(76, before);
        assertEquals(36, m.tokensWithin(100 * MS), "(100 - 10) / 2.5 = 36 tokens once the old steps are forgotten");
    }

    @Test
    void anUnphysicalFitFallsBackToProportional() {
        StepCostModel m = new StepCostModel();
        m.observe(10, 50 * MS); // noise: the bigger step was faster
        m.observe(100, 40 * MS);
        double[] line = m.line();
        assertEquals(0, line[0]);
        assertTrue(line[1] > 0);
        assertEquals((0.95 * 50 + 40) * MS / (0.95 * 10 + 100), line[1], 1e-6, "the older step weighs 0.95");
    }

    @Test
    void ignoresEmptySteps() {
        StepCostModel m = new StepCostModel();
        m.observe(0, 5 * MS);
        assertFalse(m.calibrated());
    }
}
