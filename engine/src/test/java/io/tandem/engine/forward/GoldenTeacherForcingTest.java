package io.tandem.engine.forward;

import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kv.KvArenas;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Teacher forcing against llama.cpp's goldens: each prompt in one batch, then each golden token one at a time; at
 * every step the golden top-10 logits must be matched within the model's {@link Tolerance}, and the argmax must agree
 * (everywhere for F32 models, where the golden margin is clear for Q8_0).
 */
class GoldenTeacherForcingTest {
    private static final Map<String, double[]> WORST = new TreeMap<>(); // model -> max abs, max rel, argmax agree, steps

    static Stream<Arguments> prompts() {
        List<Arguments> out = new ArrayList<>();
        for (KernelMode mode : List.of(KernelMode.VECTOR, KernelMode.SCALAR)) {
            for (String model : List.of(TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8)) {
                Golden g = Golden.load(model);
                for (Golden.Prompt p : g.prompts()) out.add(Arguments.of(model, mode, p.name(), p));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} / {1} kernels / {2}")
    @MethodSource("prompts")
    void matchesGoldenAtEveryStep(String model, KernelMode mode, String promptName, Golden.Prompt prompt) {
        Transformer t = TestModels.get(model, mode, 2);
        Tolerance tol = Tolerance.forModel(model);
        int total = prompt.promptIds().length + prompt.generatedIds().length;
        try (KvArenas cache = TestModels.cache(t, 1, total)) {
            int[] table = TestModels.blockTable(0, 1, total, 16);
            float[] logits = t.forward(Batch.of(SequenceSpan.of(prompt.promptIds(), 0, table)), cache).lastLogits(0);
            List<String> failures = new ArrayList<>();
            for (int step = 0; step < prompt.steps().size(); step++) {
                if (step > 0) {
                    int[] next = {prompt.generatedIds()[step - 1]};
                    int pos = prompt.promptIds().length + step - 1;
                    logits = t.forward(Batch.of(SequenceSpan.of(next, pos, table)), cache).lastLogits(0);
                }
                check(model + " (" + mode + ")", tol, prompt.steps().get(step), logits, "step " + step, failures);
            }
            if (!failures.isEmpty()) fail(model + " / " + mode + " / " + promptName + ":\n" + String.join("\n", failures));
        }
    }

    private static void check(String model, Tolerance tol, Golden.Step step, float[] logits, String where,
                              List<String> failures) {
        double maxAbs = 0, maxRel = 0;
        for (int i = 0; i < step.topIds().length; i++) {
            double golden = step.topLogits()[i];
            double err = Math.abs(logits[step.topIds()[i]] - golden);
            maxAbs = Math.max(maxAbs, err);
            maxRel = Math.max(maxRel, err / Math.max(1, Math.abs(golden)));
            if (err > tol.bound(golden)) {
                failures.add(where + ": logit of token " + step.topIds()[i] + " is " + logits[step.topIds()[i]]
                        + ", golden " + golden + " (error " + err + ")");
            }
        }
        int ours = TestModels.argmax(logits);
        boolean agree = ours == step.token();
        if (!agree && (tol.isF32() || step.margin() >= tol.argmaxMargin())) {
            failures.add(where + ": argmax " + ours + " (logit " + logits[ours] + "), golden " + step.token()
                    + " (margin " + step.margin() + ")");
        }
        synchronized (WORST) {
            double[] w = WORST.computeIfAbsent(model, k -> new double[4]);
            w[0] = Math.max(w[0], maxAbs);
            w[1] = Math.max(w[1], maxRel);
            w[2] += agree ? 1 : 0;
            w[3] += 1;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void fullPrompt0LogitsMatch(String model) {
        Transformer t = TestModels.get(model);
        Tolerance tol = Tolerance.forModel(model);
        Golden.Prompt p = Golden.load(model).prompts().get(0);
        float[] golden = Golden.prompt0Logits(model);
        try (KvArenas cache = TestModels.cache(t, 1, p.promptIds().length)) {
            int[] table = TestModels.blockTable(0, 1, p.promptIds().length, 16);
            float[] ours = t.forward(Batch.of(SequenceSpan.of(p.promptIds(), 0, table)), cache).lastLogits(0);
            assertEquals(golden.length, ours.length, "vocabulary size");
            double maxAbs = 0, maxRel = 0;
            int worst = 0;
            for (int i = 0; i < golden.length; i++) {
                double err = Math.abs(ours[i] - golden[i]);
                if (err / tol.bound(golden[i]) > Math.abs(ours[worst] - golden[worst]) / tol.bound(golden[worst])) worst = i;
                maxAbs = Math.max(maxAbs, err);
                maxRel = Math.max(maxRel, err / Math.max(1, Math.abs(golden[i])));
            }
            double r = pearson(ours, golden);
            System.out.printf("%s prompt0 full logits: max abs %.3g, max rel %.3g, pearson r %.6f%n", model, maxAbs,
                    maxRel, r);
            int w = worst;
            assertTrue(Math.abs(ours[w] - golden[w]) <= tol.bound(golden[w]),
                    () -> model + ": logit " + w + " is " + ours[w] + ", golden " + golden[w]);
            if (model.equals(TestModels.QWEN3)) assertTrue(r >= 0.999, model + ": pearson r " + r);
        }
    }

    static Stream<String> models() {
        return Stream.of(TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8);
    }

    private static double pearson(float[] a, float[] b) {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= a.length;
        mb /= b.length;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }

    @AfterAll
    static void report() {
        System.out.println("vector kernels: " + Kernels.create(KernelMode.VECTOR).name());
        WORST.forEach((model, w) -> System.out.printf(
                "%s teacher forcing: top-10 max abs error %.3g, max rel error %.3g, argmax agrees %d/%d%n",
                model, w[0], w[1], (int) w[2], (int) w[3]));
    }
}
