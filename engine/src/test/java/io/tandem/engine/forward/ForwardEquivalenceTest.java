package io.tandem.engine.forward;

import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kv.KvArenas;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The same sequence gives the same logits, bit for bit, however it is scheduled: alone or batched with others
 * (prefills and decodes mixed), prompt in one chunk or many, one thread or two. (The brief asks for F32 logits
 * within 1e-5; the kernels are designed to be batch-invariant, so this checks exact equality.)
 */
class ForwardEquivalenceTest {
    private static final int DECODE_STEPS = 6;

    static Stream<String> models() {
        return Stream.of(TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8);
    }

    /** Prompt, then the golden continuation teacher-forced: the token sequence each test schedules differently. */
    private record Seq(int[] prompt, int[] continuation) {
        int length() {
            return prompt.length + continuation.length;
        }
    }

    private static List<Seq> sequences(String model) {
        List<Seq> out = new ArrayList<>();
        for (Golden.Prompt p : Golden.load(model).prompts()) {
            out.add(new Seq(p.promptIds(), Arrays.copyOf(p.generatedIds(), DECODE_STEPS)));
        }
        return out;
    }

    /** Logits alone: one-shot prompt, then one token per step; row k = logits after prompt + continuation[0..k). */
    private static List<float[]> alone(Transformer t, Seq s) {
        List<float[]> rows = new ArrayList<>();
        try (KvArenas cache = TestModels.cache(t, 1, s.length())) {
            int[] table = TestModels.blockTable(0, 1, s.length(), 16);
            rows.add(t.forward(Batch.of(SequenceSpan.of(s.prompt(), 0, table)), cache).lastLogits(0));
            for (int i = 0; i < s.continuation().length - 1; i++) {
                int[] tok = {s.continuation()[i]};
                rows.add(t.forward(Batch.of(SequenceSpan.of(tok, s.prompt().length + i, table)), cache).lastLogits(0));
            }
        }
        return rows;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void batchedEqualsAloneWithPrefillsAndDecodesMixed(String model) {
        Transformer t = TestModels.get(model);
        List<Seq> seqs = sequences(model);
        int n = seqs.size();
        int maxLen = seqs.stream().mapToInt(Seq::length).max().orElseThrow();
        List<List<float[]>> expected = seqs.stream().map(s -> alone(t, s)).toList();
        // sequence k joins at step k: each step batches the newcomer's whole prompt with everyone else's decode
        try (KvArenas cache = TestModels.cache(t, n, maxLen)) {
            int[] done = new int[n]; // logits rows produced so far
            for (int step = 0; step < n + DECODE_STEPS - 1; step++) {
                List<SequenceSpan> spans = new ArrayList<>();
                List<Integer> who = new ArrayList<>();
                for (int k = 0; k < n; k++) {
                    Seq s = seqs.get(k);
                    int[] table = TestModels.blockTable(k, n, maxLen, 16);
                    if (step == k) {
                        spans.add(SequenceSpan.of(s.prompt(), 0, table));
                    } else if (step > k && done[k] < DECODE_STEPS) {
                        int i = done[k] - 1;
                        spans.add(SequenceSpan.of(new int[] {s.continuation()[i]}, s.prompt().length + i, table));
                    } else {
                        continue;
                    }
                    who.add(k);
                }
                ForwardResult r = t.forward(new Batch(spans), cache);
                for (int j = 0; j < who.size(); j++) {
                    int k = who.get(j);
                    assertArrayEquals(expected.get(k).get(done[k]), r.lastLogits(j),
                            model + ": sequence " + k + " row " + done[k] + " differs batched (step " + step + ")");
                    done[k]++;
                }
            }
            for (int k = 0; k < n; k++) assertEquals(DECODE_STEPS, done[k], "rows of sequence " + k);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void chunkedPrefillEqualsOneShot(String model) {
        Transformer t = TestModels.get(model);
        Seq s = sequences(model).stream().max((a, b) -> a.prompt().length - b.prompt().length).orElseThrow();
        List<float[]> expected = alone(t, s);
        int[][] chunkings = {{1}, {5}, {16}, {17}, {3, 40, 1}};
        for (int[] pattern : chunkings) {
            try (KvArenas cache = TestModels.cache(t, 1, s.length())) {
                int[] table = TestModels.blockTable(0, 1, s.length(), 16);
                int pos = 0, c = 0;
                float[] last = null;
                while (pos < s.prompt().length) {
                    int len = Math.min(pattern[c++ % pattern.length], s.prompt().length - pos);
                    int[] chunk = Arrays.copyOfRange(s.prompt(), pos, pos + len);
                    boolean final_ = pos + len == s.prompt().length;
                    ForwardResult r = t.forward(Batch.of(new SequenceSpan(chunk, pos, table,
                            final_ ? SequenceSpan.Logits.LAST : SequenceSpan.Logits.NONE)), cache);
                    assertEquals(final_ ? 1 : 0, r.rows(0));
                    if (final_) last = r.lastLogits(0);
                    pos += len;
                }
                String what = model + " chunks " + Arrays.toString(pattern);
                assertArrayEquals(expected.get(0), last, what + ": logits after the prompt");
                for (int i = 0; i < DECODE_STEPS - 1; i++) {
                    int[] tok = {s.continuation()[i]};
                    float[] row = t.forward(Batch.of(SequenceSpan.of(tok, s.prompt().length + i, table)), cache).lastLogits(0);
                    assertArrayEquals(expected.get(i + 1), row, what + ": decode step " + i);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void allLogitsOfOnePrefillEqualTokenByToken(String model) {
        Transformer t = TestModels.get(model);
        int[] prompt = sequences(model).get(2).prompt();
        try (KvArenas one = TestModels.cache(t, 1, prompt.length); KvArenas steps = TestModels.cache(t, 1, prompt.length)) {
            int[] table = TestModels.blockTable(0, 1, prompt.length, 16);
            ForwardResult all = t.forward(Batch.of(new SequenceSpan(prompt, 0, table, SequenceSpan.Logits.ALL)), one);
            assertEquals(prompt.length, all.rows(0));
            for (int i = 0; i < prompt.length; i++) {
                float[] row = t.forward(Batch.of(SequenceSpan.of(new int[] {prompt[i]}, i, table)), steps).lastLogits(0);
                assertArrayEquals(row, all.logits(0, i), model + ": position " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void threadCountDoesNotChangeResults(String model) {
        Seq s = sequences(model).get(1);
        List<float[]> two = alone(TestModels.get(model), s);
        List<float[]> one = alone(TestModels.get(model, KernelMode.AUTO, 1), s);
        for (int i = 0; i < two.size(); i++) assertArrayEquals(two.get(i), one.get(i), model + " row " + i);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void stepGivesForwardsLogitsInOneReusedBuffer(String model) {
        // step() is the engine's path: the same logits as forward(), in a buffer that the next step overwrites
        Transformer t = TestModels.get(model);
        Seq s = sequences(model).get(0);
        List<float[]> expected = alone(t, s);
        try (KvArenas cache = TestModels.cache(t, 1, s.length())) {
            int[] table = TestModels.blockTable(0, 1, s.length(), 16);
            ForwardResult first = t.step(Batch.of(SequenceSpan.of(s.prompt(), 0, table)), cache, LayerListener.NONE);
            assertArrayEquals(expected.get(0), first.lastLogits(0), model + " row 0");
            for (int i = 0; i < s.continuation().length - 1; i++) {
                int[] tok = {s.continuation()[i]};
                ForwardResult r = t.step(Batch.of(SequenceSpan.of(tok, s.prompt().length + i, table)), cache, LayerListener.NONE);
                assertSame(first.array(), r.array(), "one buffer for every step");
                assertArrayEquals(expected.get(i + 1), r.lastLogits(0), model + " row " + (i + 1));
            }
        }
    }
}
