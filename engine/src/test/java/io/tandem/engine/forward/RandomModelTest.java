package io.tandem.engine.forward;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kernels.UnsupportedTensorTypeException;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufTensorType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random small models for every arch x weight type x attention shape x rope option, checked position by position
 * against {@link ReferenceForward} (double precision, same decoded weights): this covers qwen2 biases, F16 / BF16 /
 * Q4_0 weights, MQA, tied outputs and rope variants that the golden models do not.
 */
class RandomModelTest {
    private static final ComputePool POOL = new ComputePool(2);
    private static final List<GgufFile> OPEN = new ArrayList<>();

    @AfterAll
    static void close() {
        OPEN.forEach(GgufFile::close);
        POOL.close();
    }

    static Stream<RandomModel> models() {
        List<RandomModel> out = new ArrayList<>();
        for (String arch : List.of("llama", "qwen2", "qwen3")) {
            for (GgufTensorType type : List.of(GgufTensorType.F32, GgufTensorType.F16, GgufTensorType.BF16,
                    GgufTensorType.Q8_0, GgufTensorType.Q4_0)) {
                out.add(RandomModel.of(arch, type, 2));
            }
            out.add(RandomModel.of(arch, GgufTensorType.F32, 4));             // MHA
            out.add(RandomModel.of(arch, GgufTensorType.Q8_0, 1).withTied()); // MQA, tied output
            out.add(RandomModel.of(arch, GgufTensorType.F32, 2).withHeadDim(32, 32)); // head_dim != embd / heads
            out.add(RandomModel.of(arch, GgufTensorType.F32, 2).withHeadDim(32, 16)); // partial rotary
            out.add(RandomModel.of(arch, GgufTensorType.F32, 2).withRope(4f, false)); // linear scaling
        }
        out.add(RandomModel.of("llama", GgufTensorType.F32, 2).withRope(0, true));    // llama 3.1 rope_freqs
        return out.stream();
    }

    private static Transformer open(Path p, KernelMode mode) throws IOException {
        GgufFile f = GgufFile.open(p);
        synchronized (OPEN) {
            OPEN.add(f);
        }
        return new Transformer(ModelWeights.load(f, ModelConfig.from(f.metadata())),
                new MatMul(Kernels.create(mode), POOL));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void matchesDoublePrecisionReference(RandomModel spec) throws IOException {
        // the record's hashCode includes an enum's identity hash, which changes from run to run: seed from its text
        int seed = spec.toString().hashCode();
        Path path = spec.write(seed);
        int[] tokens = RandomModel.tokens(seed, 40, spec.vocab());
        for (KernelMode mode : List.of(KernelMode.VECTOR, KernelMode.SCALAR)) {
            Transformer t = open(path, mode);
            double[][] ref = ReferenceForward.logits(t.weights(), tokens);
            try (KvArenas cache = TestModels.cache(t, 1, tokens.length)) {
                int[] table = TestModels.blockTable(0, 1, tokens.length, 16);
                // prompt in two chunks, all rows: every position is compared
                ForwardResult a = t.forward(Batch.of(new SequenceSpan(java.util.Arrays.copyOf(tokens, 23), 0, table,
                        SequenceSpan.Logits.ALL)), cache);
                ForwardResult b = t.forward(Batch.of(new SequenceSpan(java.util.Arrays.copyOfRange(tokens, 23, 40), 23,
                        table, SequenceSpan.Logits.ALL)), cache);
                for (int p = 0; p < tokens.length; p++) {
                    float[] ours = p < 23 ? a.logits(0, p) : b.logits(0, p - 23);
                    if (spec.type() == GgufTensorType.Q4_0) {
                        // Q4_0 multiplies 8-bit activations (as llama.cpp does): their rounding, not the summation,
                        // dominates the difference, and these tiny models (head_dim 16) pass it through every layer:
                        // compare its size over the whole row (seen up to 7.6 %; a wrong kernel is ~100 %).
                        // Q4KernelsTest bounds it per product.
                        assertRelativeRms(ours, ref[p], 0.10, spec + " " + mode + " position " + p);
                        continue;
                    }
                    for (int v = 0; v < ours.length; v++) {
                        // float32 chains against double: up to 1.12e-4 seen (Q8_0, MQA, tied output: the scale applied
                        // once per 32-column block); a wrong kernel or layout is off by orders of magnitude more
                        double bound = 2e-4 * Math.max(1, Math.abs(ref[p][v]));
                        int pos = p, voc = v;
                        assertTrue(Math.abs(ours[v] - ref[p][v]) <= bound, () -> spec + " " + mode + " position " + pos
                                + " token " + voc + ": " + ours[voc] + " vs reference " + ref[pos][voc]);
                    }
                }
            }
        }
    }

    private static void assertRelativeRms(float[] ours, double[] ref, double bound, String what) {
        double err = 0, norm = 0;
        for (int v = 0; v < ours.length; v++) {
            err += (ours[v] - ref[v]) * (ours[v] - ref[v]);
            norm += ref[v] * ref[v];
        }
        double rel = Math.sqrt(err / Math.max(norm, 1e-30));
        assertTrue(rel <= bound, () -> what + ": relative rms error " + rel + " > " + bound);
    }

    @Test
    void f16KvCacheStaysCloseToF32() throws IOException {
        RandomModel spec = RandomModel.of("qwen3", GgufTensorType.F32, 2);
        Transformer t = open(spec.write(5), KernelMode.VECTOR);
        int[] tokens = RandomModel.tokens(5, 40, spec.vocab());
        try (KvArenas f32 = TestModels.cache(t, 1, 40, KvDataType.F32, 16);
             KvArenas f16 = TestModels.cache(t, 1, 40, KvDataType.F16, 8)) {
            float[] a = t.forward(Batch.of(new SequenceSpan(tokens, 0, TestModels.blockTable(0, 1, 40, 16),
                    SequenceSpan.Logits.ALL)), f32).array();
            float[] b = t.forward(Batch.of(new SequenceSpan(tokens, 0, TestModels.blockTable(0, 1, 40, 8),
                    SequenceSpan.Logits.ALL)), f16).array();
            double max = 0;
            boolean differs = false;
            for (int i = 0; i < a.length; i++) {
                max = Math.max(max, Math.abs(a[i] - b[i]));
                differs |= a[i] != b[i];
            }
            assertTrue(differs, "F16 KV rounds keys and values, so logits should move a little");
            assertTrue(max < 0.05, "F16 KV moved logits by " + max);
        }
    }

    @Test
    void unsupportedWeightTypeIsNamed() throws IOException {
        Path p = RandomModel.of("llama", GgufTensorType.F32, 2)
                .write(1, new RandomModel.Edit("blk.1.ffn_up.weight", GgufTensorType.Q5_0, new long[] {64, 96}));
        try (GgufFile f = GgufFile.open(p)) {
            var e = assertThrows(UnsupportedTensorTypeException.class,
                    () -> ModelWeights.load(f, ModelConfig.from(f.metadata())));
            assertEquals("blk.1.ffn_up.weight", e.tensor());
            assertTrue(e.getMessage().contains("blk.1.ffn_up.weight") && e.getMessage().contains("Q5_0"), e.getMessage());
        }
    }

    @Test
    void missingOrMisshapenTensorsAreNamed() throws IOException {
        Path noBias = RandomModel.of("qwen2", GgufTensorType.F32, 2).write(2, RandomModel.Edit.drop("blk.0.attn_q.bias"));
        try (GgufFile f = GgufFile.open(noBias)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ModelWeights.load(f, ModelConfig.from(f.metadata())));
            assertTrue(e.getMessage().contains("blk.0.attn_q.bias"), e.getMessage());
        }
        Path noNorm = RandomModel.of("qwen3", GgufTensorType.F32, 2).write(2, RandomModel.Edit.drop("blk.1.attn_k_norm.weight"));
        try (GgufFile f = GgufFile.open(noNorm)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ModelWeights.load(f, ModelConfig.from(f.metadata())));
            assertTrue(e.getMessage().contains("blk.1.attn_k_norm.weight"), e.getMessage());
        }
        Path shape = RandomModel.of("llama", GgufTensorType.F32, 2)
                .write(3, new RandomModel.Edit("blk.0.attn_k.weight", GgufTensorType.F32, new long[] {64, 16}));
        try (GgufFile f = GgufFile.open(shape)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ModelWeights.load(f, ModelConfig.from(f.metadata())));
            assertTrue(e.getMessage().contains("blk.0.attn_k.weight") && e.getMessage().contains("shape"), e.getMessage());
        }
    }

    @Test
    void tiedOutputUsesTheEmbeddingTable() throws IOException {
        try (GgufFile f = GgufFile.open(RandomModel.of("qwen3", GgufTensorType.Q8_0, 2).withTied().write(4))) {
            ModelWeights w = ModelWeights.load(f, ModelConfig.from(f.metadata()));
            assertEquals(w.tokenEmbd(), w.output());
        }
    }
}
