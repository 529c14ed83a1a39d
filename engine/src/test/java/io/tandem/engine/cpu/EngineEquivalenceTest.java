package io.tandem.engine.cpu;

import io.tandem.engine.forward.Golden;
import io.tandem.engine.forward.TestModels;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a sequence is scheduled must not change what it generates. Each case runs the golden prompts
 * (plus a follow-up turn that extends the long one) under one scheduling regime and compares with
 * each prompt run alone, in one shot, without prefix caching: greedy tokens identical, the logprobs
 * of every sampled and top-5 token within 1e-5.
 */
class EngineEquivalenceTest {
    private static final int MAX_TOKENS = 24;
    private static final double LOGPROB_TOLERANCE = 1e-5;

    static Map<String, int[]> prompts(String model) {
        Map<String, int[]> out = new LinkedHashMap<>();
        Golden g = Golden.load(model);
        for (Golden.Prompt p : g.prompts()) out.put(p.name(), p.promptIds());
        Golden.Prompt longest = g.prompts().stream().filter(p -> p.name().equals("long")).findFirst().orElseThrow();
        // the next turn of a conversation: previous prompt + its answer + a few new tokens
        int[] turn = IntStream.concat(IntStream.concat(IntStream.of(longest.promptIds()), IntStream.of(longest.generatedIds())),
                IntStream.of(g.prompts().getFirst().promptIds())).toArray();
        out.put("long-next-turn", turn);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8})
    void batchedEqualsAlone(String model) {
        Map<String, int[]> prompts = prompts(model);
        try (CoreFixture f = new CoreFixture(model, 256, 4096, 16, false)) {
            var outputs = addAll(f, prompts);
            f.runToCompletion();
            assertSame(model + " batched", CoreFixture.alone(model, prompts, CoreFixture.greedy(MAX_TOKENS)), outputs);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8})
    void chunkedPrefillEqualsOneShot(String model) {
        Map<String, int[]> prompts = prompts(model);
        // 7 tokens a step: chunks end mid-block and share steps with other sequences' decodes
        try (CoreFixture f = new CoreFixture(model, 256, 7, 16, false)) {
            var outputs = addAll(f, prompts);
            f.runToCompletion();
            assertSame(model + " chunked", CoreFixture.alone(model, prompts, CoreFixture.greedy(MAX_TOKENS)), outputs);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8})
    void prefixCacheHitEqualsMiss(String model) {
        Map<String, int[]> prompts = prompts(model);
        try (CoreFixture f = new CoreFixture(model, 256, 4096, 16, true)) {
            CoreFixture.Output first = f.add("long", prompts.get("long"), CoreFixture.greedy(MAX_TOKENS));
            f.runToCompletion();
            assertEquals(0, first.usage.cachedTokens(), "a cold cache has no hit");
            var outputs = addAll(f, prompts); // "long" again, and its next turn, hit what the first run cached
            f.runToCompletion();
            int longLength = prompts.get("long").length;
            assertEquals((longLength - 1) / 16 * 16, outputs.get("long").usage.cachedTokens(), "the repeated prompt hits all but its last block");
            assertTrue(outputs.get("long-next-turn").usage.cachedTokens() >= longLength / 16 * 16,
                    "the next turn reuses the previous turn's blocks: " + outputs.get("long-next-turn").usage);
            assertSame(model + " prefix hit", CoreFixture.alone(model, prompts, CoreFixture.greedy(MAX_TOKENS)), outputs);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8})
    void preemptedAndRecomputedEqualsUninterrupted(String model) {
        Map<String, int[]> prompts = prompts(model);
        int largest = prompts.values().stream().mapToInt(p -> (p.length + MAX_TOKENS + 15) / 16).max().orElseThrow();
        // room for the largest request and a little more: the batch must preempt to make progress
        try (CoreFixture f = new CoreFixture(model, largest + 3, 64, 16, true)) {
            var outputs = addAll(f, prompts);
            f.runToCompletion();
            assertTrue(f.core.scheduler().preemptions() > 0, "the small cache forced preemptions");
            assertSame(model + " preempted", CoreFixture.alone(model, prompts, CoreFixture.greedy(MAX_TOKENS)), outputs);
            assertEquals(f.kv.totalBlocks(), f.kv.freeBlocks(), "every block is free again");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.FORTUNE_F32})
    void seededSamplingIsTheSameBatchedOrAlone(String model) {
        Map<String, int[]> prompts = prompts(model);
        SamplingParams sampled = new SamplingParams(MAX_TOKENS, 0.9f, 0.95f, 40, 0.02f, 1234L, 0.3f, 0.2f, new int[0], true, 2);
        try (CoreFixture f = new CoreFixture(model, 40, 5, 16, true)) {
            Map<String, CoreFixture.Output> outputs = new LinkedHashMap<>();
            prompts.forEach((name, p) -> outputs.put(name, f.add(name, p, sampled)));
            f.runToCompletion();
            assertSame(model + " seeded", CoreFixture.alone(model, prompts, sampled), outputs);
        }
    }

    private static Map<String, CoreFixture.Output> addAll(CoreFixture f, Map<String, int[]> prompts) {
        Map<String, CoreFixture.Output> out = new LinkedHashMap<>();
        prompts.forEach((name, p) -> out.put(name, f.add(name, p, CoreFixture.greedy(MAX_TOKENS))));
        return out;
    }

    static void assertSame(String what, Map<String, CoreFixture.Output> expected, Map<String, CoreFixture.Output> actual) {
        for (String name : expected.keySet()) {
            CoreFixture.Output e = expected.get(name), a = actual.get(name);
            assertNull(a.error, what + " / " + name + " failed: " + a.errorMessage);
            assertEquals(1, a.terminalCalls, what + " / " + name + ": one terminal callback");
            assertArrayEquals(e.tokenArray(), a.tokenArray(), what + " / " + name + ": tokens");
            for (int i = 0; i < e.logprobs.size(); i++) {
                TokenLogprobs el = e.logprobs.get(i), al = a.logprobs.get(i);
                assertEquals(el.logprob(), al.logprob(), LOGPROB_TOLERANCE, what + " / " + name + " logprob of token " + i);
                assertArrayEquals(el.topTokens(), al.topTokens(), what + " / " + name + " top tokens at " + i);
                for (int k = 0; k < el.topLogprobs().length; k++) {
                    assertEquals(el.topLogprobs()[k], al.topLogprobs()[k], LOGPROB_TOLERANCE, what + " / " + name + " top logprob " + k + " at " + i);
                }
            }
            assertEquals(e.usage.completionTokens(), a.usage.completionTokens(), what + " / " + name + ": usage");
        }
    }
}
