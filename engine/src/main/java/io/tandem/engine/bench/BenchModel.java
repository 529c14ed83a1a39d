package io.tandem.engine.bench;

import io.tandem.engine.kernels.Quantize;
import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufTensorType;
import io.tandem.model.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Writes the benchmark model: arch llama, n_embd 768, 12 layers, 12 heads, 4 KV heads, n_ff 2048, context 2048,
 * the 32000-piece SentencePiece vocabulary of another GGUF file (the testdata model {@code tiny-llama-spm-f32}),
 * 124.7 M parameters with random weights (speed does not depend on their values) in one tensor type.
 */
public final class BenchModel {
    public static final int EMBD = 768, LAYERS = 12, HEADS = 12, KV_HEADS = 4, FF = 2048, CONTEXT = 2048, VOCAB = 32000;

    private BenchModel() {
    }

    /** Writes the model to {@code out} with the tokenizer of {@code vocabularyFrom}; returns its size in bytes. */
    public static long write(Path out, GgufTensorType type, Path vocabularyFrom) throws IOException {
        if (!Arrays.asList(GgufTensorType.F32, GgufTensorType.F16, GgufTensorType.Q8_0, GgufTensorType.Q4_0).contains(type)) {
            throw new IllegalArgumentException("the benchmark model comes in F32, F16, Q8_0 or Q4_0, not " + type);
        }
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama").putString("general.name", "tandem-bench-125m-" + type.name().toLowerCase())
                .putUInt32("llama.context_length", CONTEXT).putUInt32("llama.embedding_length", EMBD)
                .putUInt32("llama.block_count", LAYERS).putUInt32("llama.feed_forward_length", FF)
                .putUInt32("llama.attention.head_count", HEADS).putUInt32("llama.attention.head_count_kv", KV_HEADS)
                .putUInt32("llama.rope.dimension_count", EMBD / HEADS).putFloat32("llama.rope.freq_base", 10000f)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        try (GgufFile vocab = GgufFile.open(vocabularyFrom)) {
            int pieces = 0;
            for (String k : vocab.metadata().keys()) {
                if (k.startsWith("tokenizer.")) w.put(k, vocab.metadata().value(k));
                if (k.equals("tokenizer.ggml.tokens")) pieces = vocab.metadata().value(k).length();
            }
            if (pieces != VOCAB) {
                throw new IllegalArgumentException(vocabularyFrom + " has " + pieces + " vocabulary pieces, the benchmark model needs "
                        + VOCAB + " (use testdata/models/tiny-llama-spm-f32.gguf)");
            }
        }
        w.putUInt32("llama.vocab_size", VOCAB);
        SplittableRandom rnd = new SplittableRandom(42);
        int kvDim = KV_HEADS * EMBD / HEADS;
        matrix(w, "token_embd.weight", type, VOCAB, EMBD, rnd);
        for (int l = 0; l < LAYERS; l++) {
            String p = "blk." + l + ".";
            w.addF32Tensor(p + "attn_norm.weight", new long[] {EMBD}, ones(EMBD));
            matrix(w, p + "attn_q.weight", type, EMBD, EMBD, rnd);
            matrix(w, p + "attn_k.weight", type, kvDim, EMBD, rnd);
            matrix(w, p + "attn_v.weight", type, kvDim, EMBD, rnd);
            matrix(w, p + "attn_output.weight", type, EMBD, EMBD, rnd);
            w.addF32Tensor(p + "ffn_norm.weight", new long[] {EMBD}, ones(EMBD));
            matrix(w, p + "ffn_gate.weight", type, FF, EMBD, rnd);
            matrix(w, p + "ffn_up.weight", type, FF, EMBD, rnd);
            matrix(w, p + "ffn_down.weight", type, EMBD, FF, rnd);
        }
        w.addF32Tensor("output_norm.weight", new long[] {EMBD}, ones(EMBD));
        matrix(w, "output.weight", type, VOCAB, EMBD, rnd);
        w.putUInt32("general.file_type", switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            default -> throw new IllegalStateException();
        });
        Files.deleteIfExists(out);
        w.write(out);
        return Files.size(out);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return v;
    }

    /** Uniform weights with standard deviation 0.02, like a freshly initialised model. */
    private static void matrix(GgufWriter w, String name, GgufTensorType type, int rows, int cols, SplittableRandom rnd) {
        float[] v = new float[rows * cols];
        float half = 0.02f * 1.7320508f;
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * half);
        w.addTensor(name, type, new long[] {cols, rows}, Quantize.encode(type, v));
    }
}
