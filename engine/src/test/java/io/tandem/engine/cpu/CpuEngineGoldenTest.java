package io.tandem.engine.cpu;

import io.tandem.engine.forward.Golden;
import io.tandem.engine.forward.TestModels;
import io.tandem.protocol.FinishReason;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Free-running greedy generation through the whole engine (scheduler, paged cache, sampler) reproduces
 * llama.cpp's greedy tokens: all 24 for F32 models; for Q8_0 models (llama.cpp also quantizes
 * activations, this engine does not) up to the first step whose golden top-1/top-2 margin is below
 * the model's argmax tolerance, after which the two runs may legitimately part.
 */
class CpuEngineGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8})
    void greedyTokensMatchTheGoldens(String model) {
        Golden golden = Golden.load(model);
        double margin = switch (model) {
            case TestModels.QWEN3 -> 1.5;
            case TestModels.FORTUNE_Q8 -> 0.25;
            default -> 0;
        };
        try (CoreFixture f = new CoreFixture(model, 128, 512, 8, true)) {
            var outputs = new java.util.ArrayList<CoreFixture.Output>();
            for (Golden.Prompt p : golden.prompts()) {
                outputs.add(f.add(p.name(), p.promptIds(), CoreFixture.greedy(p.generatedIds().length)));
            }
            f.runToCompletion(); // all prompts batched together
            for (int i = 0; i < golden.prompts().size(); i++) {
                Golden.Prompt p = golden.prompts().get(i);
                CoreFixture.Output o = outputs.get(i);
                assertEquals(FinishReason.LENGTH, o.finish, p.name());
                int comparable = p.steps().size();
                for (int s = 0; s < p.steps().size(); s++) {
                    if (p.steps().get(s).margin() < margin) {
                        comparable = s + 1; // this step's token may differ; nothing after it is comparable
                        break;
                    }
                }
                int exact = margin == 0 ? comparable : comparable - 1;
                assertArrayEquals(Arrays.copyOf(p.generatedIds(), exact), Arrays.copyOf(o.tokenArray(), exact),
                        model + " / " + p.name() + ": greedy tokens");
                assertEquals(p.promptIds().length, o.usage.promptTokens());
                assertEquals(p.generatedIds().length, o.usage.completionTokens());
            }
        }
    }
}
