package io.tandem.engine.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PrefillBudgetTest {
    private static final long MS = 1_000_000;

    /** A cost model that learned 5 ms per step plus 1.25 ms per token: 76 tokens fit in 100 ms. */
    private static StepCostModel learned() {
        StepCostModel m = new StepCostModel();
        for (int tokens : new int[] {1, 16, 512, 64}) m.observe(tokens, 5 * MS + tokens * 1_250_000L);
        return m;
    }

    @Test
    void aStepWithoutDecodesKeepsTheWholeTokenBudget() {
        assertEquals(512, new PrefillBudget(512, 100 * MS, learned()).prefillTokens(0));
    }

    @Test
    void aStepWithDecodesAddsTheTokensThatFitInTheTarget() {
        PrefillBudget b = new PrefillBudget(512, 100 * MS, learned());
        assertEquals(76 - 8, b.prefillTokens(8));
        assertEquals(76 - 1, b.prefillTokens(1));
        assertEquals(5 * MS + 76 * 1_250_000L, learned().predictNanos(8 + b.prefillTokens(8)), 1, "within 100 ms");
    }

    @Test
    void promptsStillProgressWhenTheDecodesAloneExceedTheTarget() {
        PrefillBudget b = new PrefillBudget(512, 100 * MS, learned());
        assertEquals(64, b.minPrefillTokens(), "an eighth of max_num_batched_tokens");
        assertEquals(64, b.prefillTokens(70), "76 fit, 70 are decodes: the floor, not 6");
        assertEquals(64, b.prefillTokens(100));
        assertEquals(0, b.prefillTokens(512), "but never beyond max_num_batched_tokens");
        assertEquals(2, b.prefillTokens(510));
    }

    @Test
    void beforeAnyMeasuredStepOnlyTheFloorIsAdded() {
        assertEquals(64, new PrefillBudget(512, 100 * MS, new StepCostModel()).prefillTokens(4));
    }

    @Test
    void noTargetSharesTheTokenBudgetAsChunkedPrefillDoes() {
        PrefillBudget b = new PrefillBudget(512, 0, learned());
        assertEquals(512 - 8, b.prefillTokens(8));
        assertEquals(512, PrefillBudget.unlimited(512).prefillTokens(0));
    }

    @Test
    void learnsFromObservedSteps() {
        PrefillBudget b = new PrefillBudget(512, 100 * MS, new StepCostModel());
        for (int tokens : new int[] {1, 16, 512, 64}) b.observe(tokens, 5 * MS + tokens * 1_250_000L);
        assertEquals(76 - 8, b.prefillTokens(8));
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new PrefillBudget(0, 100 * MS, learned()));
        assertThrows(IllegalArgumentException.class, () -> new PrefillBudget(512, -1, learned()));
    }
}
