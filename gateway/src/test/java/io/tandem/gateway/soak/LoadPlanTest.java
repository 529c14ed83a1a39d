package io.tandem.gateway.soak;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoadPlanTest {
    private static final LoadPlan.Mix MIX = LoadPlan.Mix.defaults();

    private static List<LoadPlan.Planned> draw(LoadPlan plan, long seed, int n) {
        SplittableRandom random = new SplittableRandom(seed);
        List<LoadPlan.Planned> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(plan.next(random));
        return out;
    }

    @Test
    void theSameSeedPlansTheSameRequests() {
        assertEquals(draw(new LoadPlan(MIX, 7, 2048), 3, 200), draw(new LoadPlan(MIX, 7, 2048), 3, 200));
    }

    @Test
    void requestsFitTheModelsContext() {
        LoadPlan plan = new LoadPlan(MIX, 1, 256); // the bundled model's context
        assertEquals(128, plan.maxTokens(), "at most half the context is generated");
        for (LoadPlan.Planned p : draw(plan, 2, 2000)) {
            int words = p.prompt().split("\\s+").length;
            // every word at two tokens at most, plus the labels, still leaves room for max_tokens
            assertTrue(words * LoadPlan.TOKENS_PER_WORD + p.maxTokens() <= 256 + 16, words + " words + " + p.maxTokens());
            assertTrue(p.maxTokens() >= MIX.minTokens() && p.maxTokens() <= plan.maxTokens(), "tokens " + p.maxTokens());
        }
        LoadPlan big = new LoadPlan(MIX, 1, 8192);
        assertEquals(MIX.maxTokens(), big.maxTokens(), "a large context keeps the mix's range");
    }

    @Test
    void mostPromptsShareAPrefixAndEndingsFollowTheMix() {
        LoadPlan plan = new LoadPlan(MIX, 5, 2048);
        int shared = 0, disconnects = 0, cancels = 0, n = 20_000;
        for (LoadPlan.Planned p : draw(plan, 9, n)) {
            if (plan.prefixes().stream().anyMatch(p.prompt()::startsWith)) shared++;
            switch (p.ending()) {
                case LoadPlan.Ending.DisconnectAfter d -> {
                    disconnects++;
                    assertTrue(d.chunks() >= 1 && d.chunks() < p.maxTokens(), "a disconnect comes mid-stream: " + d + " of " + p.maxTokens());
                }
                case LoadPlan.Ending.CancelAfter c -> {
                    cancels++;
                    assertTrue(c.millis() >= 1 && c.millis() <= MIX.maxCancelMillis(), "cancel after " + c.millis());
                }
                case LoadPlan.Ending.ReadAll r -> { }
            }
        }
        assertEquals(MIX.sharedFraction(), shared / (double) n, 0.02);
        assertEquals(MIX.disconnectFraction(), disconnects / (double) n, 0.01);
        assertEquals(MIX.cancelFraction(), cancels / (double) n, 0.01);
        assertEquals(MIX.sharedPrefixes(), plan.prefixes().stream().distinct().count());
    }

    @Test
    void aMixThatCannotBePlannedIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LoadPlan.Mix(1, 10, 0, 0, 1, 1, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new LoadPlan.Mix(16, 8, 0, 0, 1, 1, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new LoadPlan.Mix(16, 32, 0.6, 0.6, 1, 1, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new LoadPlan(MIX, 1, 32));
    }
}
