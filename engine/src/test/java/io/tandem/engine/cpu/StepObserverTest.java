package io.tandem.engine.cpu;

import io.tandem.engine.forward.TestModels;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class StepObserverTest {
    private record Step(int prefillTokens, int decodes, long nanos) {}

    @Test
    void seesEveryStepWithWhatItHeld() {
        try (CoreFixture f = new CoreFixture(TestModels.FORTUNE_F32, 64, 4096, 4, false)) {
            List<Step> steps = new ArrayList<>();
            f.core.observeSteps((prefill, decodes, nanos) -> steps.add(new Step(prefill, decodes, nanos)));
            CoreFixture.Output a = f.add("a", new int[] {1, 2, 3, 4, 5}, CoreFixture.greedy(3));
            assertTrue(f.core.step());
            // the prompt step samples the first token: 5 prompt tokens, no decode
            assertEquals(new Step(5, 0, steps.get(0).nanos()), steps.get(0));
            CoreFixture.Output b = f.add("b", new int[] {7, 8, 9}, CoreFixture.greedy(2));
            assertTrue(f.core.step());
            // a's decode beside b's prompt
            assertEquals(new Step(3, 1, steps.get(1).nanos()), steps.get(1));
            f.runToCompletion();
            assertEquals(3, a.tokens.size());
            assertEquals(2, b.tokens.size());
            // then decode-only steps: a has one token left, b one
            assertEquals(List.of(2), steps.subList(2, steps.size()).stream().map(Step::decodes).distinct().toList());
            assertTrue(steps.subList(2, steps.size()).stream().allMatch(s -> s.prefillTokens() == 0));
            assertTrue(steps.stream().allMatch(s -> s.nanos() > 0), steps.toString());
            assertEquals(f.core.steps(), steps.size(), "one call per step");

            f.core.observeSteps(StepObserver.NONE);
            f.add("c", new int[] {4, 4}, CoreFixture.greedy(1));
            f.runToCompletion();
            assertEquals(f.core.steps() - 1, steps.size(), "no calls once stopped");
        }
    }
}
