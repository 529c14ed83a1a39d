package io.tandem.engine.forward;

import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Quantize;
import io.tandem.engine.kv.KvCache;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufTensorType;
import io.tandem.model.gguf.GgufWriter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Prints forward-pass speed (not a test: a tool to see where the kernels stand). Usage:
 * {@code ForwardSpeed <model.gguf> [threads] [decodeTokens] [prefillTokens] [batch]}, or
 * {@code ForwardSpeed --make-bench <out.gguf> <F32|F16|Q8_0|Q4_0>} to write the 124.7M-parameter llama
 * benchmark model (random weights, n_embd 768, 12 layers, 12 heads, 4 KV heads, n_ff 2048, vocab 32000).
 */
public final class ForwardSpeed {

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--make-bench")) {
            makeBench(Path.of(args[1]), GgufTensorType.valueOf(args[2]));
            return;
        }
        Path model = Path.of(args[0]);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int decode = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        int prefill = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int batch = args.length > 4 ? Integer.parseInt(args[4]) : 16;
        Transformer t = TestModels.load(model, KernelMode.AUTO, threads);
        System.out.printf("%s: %s, %.1fM params, %.1f MB read per token, kernels %s, %d threads%n", model.getFileName(),
                t.config().arch(), t.weights().parameterCount() / 1e6, t.weights().bytesPerToken() / 1e6,
                t.matmul().kernels().name(), threads);
        int ctx = Math.min(t.config().contextLength(), prefill + decode + 8);
        int seqs = Math.max(1, batch);
        try (KvCache cache = KvCache.allocate(KvLayout.forModel(t.config(), 16, KvDataType.F32, seqs * ((ctx + 15) / 16)))) {
            int[][] tables = new int[seqs][];
            for (int s = 0; s < seqs; s++) tables[s] = TestModels.blockTable(s, seqs, ctx, 16);
            SplittableRandom rnd = new SplittableRandom(1);
            int[] prompt = rnd.ints(prefill, 3, t.config().vocabSize()).toArray();
            for (int rep = 0; rep < 3; rep++) {
                long t0 = System.nanoTime();
                t.forward(Batch.of(SequenceSpan.of(prompt, 0, tables[0])), cache);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("prefill %d tokens: %.3f s, %.1f tokens/s%n", prefill, s, prefill / s);
            }
            for (int rep = 0; rep < 2; rep++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < decode; i++) {
                    t.forward(Batch.of(SequenceSpan.of(new int[] {3 + i}, prefill + i, tables[0])), cache);
                }
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("decode batch 1, %d tokens: %.1f tokens/s (%.2f ms/token)%n", decode, decode / s,
                        s * 1e3 / decode);
            }
            if (batch > 1) {
                for (int s = 1; s < seqs; s++) t.forward(Batch.of(SequenceSpan.of(prompt, 0, tables[s])), cache);
                for (int rep = 0; rep < 2; rep++) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < decode; i++) {
                        List<SequenceSpan> spans = new ArrayList<>();
                        for (int s = 0; s < seqs; s++) {
                            spans.add(SequenceSpan.of(new int[] {3 + i}, prefill + i, tables[s]));
                        }
                        t.forward(new Batch(spans), cache);
                    }
                    double s = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("decode batch %d, %d steps: %.1f tokens/s aggregate%n", seqs, decode,
                            decode * seqs / s);
                }
            }
        }
        System.exit(0);
    }

    private static void makeBench(Path out, GgufTensorType type) throws Exception {
        int embd = 768, layers = 12, heads = 12, kvHeads = 4, ff = 2048, ctx = 2048;
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama").putString("general.name", "tandem-bench-125m-" + type.name().toLowerCase())
                .putUInt32("llama.context_length", ctx).putUInt32("llama.embedding_length", embd)
                .putUInt32("llama.block_count", layers).putUInt32("llama.feed_forward_length", ff)
                .putUInt32("llama.attention.head_count", heads).putUInt32("llama.attention.head_count_kv", kvHeads)
                .putUInt32("llama.rope.dimension_count", embd / heads).putFloat32("llama.rope.freq_base", 10000f)
                .putFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        try (GgufFile vocab = GgufFile.open(TestModels.modelPath(TestModels.LLAMA))) {
            for (String k : vocab.metadata().keys()) {
                if (k.startsWith("tokenizer.")) w.put(k, vocab.metadata().value(k));
            }
        }
        int vocab = 32000;
        w.putUInt32("llama.vocab_size", vocab);
        SplittableRandom rnd = new SplittableRandom(42);
        add(w, "token_embd.weight", type, vocab, embd, rnd, 0.02f);
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            w.addF32Tensor(p + "attn_norm.weight", new long[] {embd}, ones(embd));
            add(w, p + "attn_q.weight", type, embd, embd, rnd, 0.02f);
            add(w, p + "attn_k.weight", type, kvHeads * embd / heads, embd, rnd, 0.02f);
            add(w, p + "attn_v.weight", type, kvHeads * embd / heads, embd, rnd, 0.02f);
            add(w, p + "attn_output.weight", type, embd, embd, rnd, 0.02f);
            w.addF32Tensor(p + "ffn_norm.weight", new long[] {embd}, ones(embd));
            add(w, p + "ffn_gate.weight", type, ff, embd, rnd, 0.02f);
            add(w, p + "ffn_up.weight", type, ff, embd, rnd, 0.02f);
            add(w, p + "ffn_down.weight", type, embd, ff, rnd, 0.02f);
        }
        w.addF32Tensor("output_norm.weight", new long[] {embd}, ones(embd));
        add(w, "output.weight", type, vocab, embd, rnd, 0.02f);
        w.putUInt32("general.file_type", switch (type) {
            case F32 -> 0; case F16 -> 1; case Q4_0 -> 2; case Q8_0 -> 7; default -> throw new IllegalArgumentException();
        });
        Files.deleteIfExists(out);
        w.write(out);
        System.out.println("wrote " + out + " (" + Files.size(out) + " bytes)");
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }

    private static void add(GgufWriter w, String name, GgufTensorType type, int rows, int cols, SplittableRandom rnd,
                            float scale) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rnd.nextDouble() * 2 - 1) * scale * 1.7320508);
        w.addTensor(name, type, new long[] {cols, rows}, Quantize.encode(type, v));
    }
}
