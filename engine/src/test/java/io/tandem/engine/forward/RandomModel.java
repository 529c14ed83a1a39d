package io.tandem.engine.forward;

import io.tandem.engine.kernels.Quantize;
import io.tandem.model.gguf.GgufTensorType;
import io.tandem.model.gguf.GgufWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Small random models written with the project's GGUF writer, for the architectures, weight types and options the
 * testdata models do not cover. Matrices use {@code type}; norms and biases stay F32 (as in real files).
 */
record RandomModel(String arch, GgufTensorType type, int embd, int heads, int kvHeads, int headDim, int ropeDims,
                   int ff, int layers, int vocab, boolean tied, float linearRopeScale, boolean ropeFreqs) {

    static RandomModel of(String arch, GgufTensorType type, int kvHeads) {
        return new RandomModel(arch, type, 64, 4, kvHeads, 16, 16, 96, 2, 96, false, 0, false);
    }

    RandomModel withTied() {
        return new RandomModel(arch, type, embd, heads, kvHeads, headDim, ropeDims, ff, layers, vocab, true,
                linearRopeScale, ropeFreqs);
    }

    RandomModel withHeadDim(int headDim, int ropeDims) {
        return new RandomModel(arch, type, embd, heads, kvHeads, headDim, ropeDims, ff, layers, vocab, tied,
                linearRopeScale, ropeFreqs);
    }

    RandomModel withRope(float linearScale, boolean freqFactors) {
        return new RandomModel(arch, type, embd, heads, kvHeads, headDim, ropeDims, ff, layers, vocab, tied,
                linearScale, freqFactors);
    }

    @Override
    public String toString() {
        return arch + " " + type + " heads " + heads + "/" + kvHeads + " head_dim " + headDim + " rope " + ropeDims
                + (tied ? " tied" : "") + (linearRopeScale != 0 ? " linear x" + linearRopeScale : "")
                + (ropeFreqs ? " rope_freqs" : "");
    }

    /** Replaces tensor {@code name} by zeros of {@code type} and {@code dims}, or drops it when type is null. */
    record Edit(String name, GgufTensorType type, long[] dims) {
        static Edit drop(String name) {
            return new Edit(name, null, null);
        }
    }

    /** Writes the model (with {@code edits} applied) to a temporary file deleted on exit. */
    Path write(long seed, Edit... edits) {
        try {
            Path p = Files.createTempFile("tandem-random-" + arch, ".gguf");
            p.toFile().deleteOnExit();
            writer(seed, edits).write(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    GgufWriter writer(long seed, Edit... edits) {
        Random rnd = new Random(seed);
        String a = arch;
        GgufWriter w = new GgufWriter().putString("general.architecture", a).putString("general.name", "random-" + a)
                .putUInt32(a + ".vocab_size", vocab).putUInt32(a + ".context_length", 128)
                .putUInt32(a + ".embedding_length", embd).putUInt32(a + ".block_count", layers)
                .putUInt32(a + ".feed_forward_length", ff).putUInt32(a + ".attention.head_count", heads)
                .putUInt32(a + ".attention.head_count_kv", kvHeads).putUInt32(a + ".attention.key_length", headDim)
                .putUInt32(a + ".attention.value_length", headDim).putUInt32(a + ".rope.dimension_count", ropeDims)
                .putFloat32(a + ".rope.freq_base", 10000f).putFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        if (linearRopeScale != 0) {
            w.putString(a + ".rope.scaling.type", "linear").putFloat32(a + ".rope.scaling.factor", linearRopeScale);
        }
        Tensors t = new Tensors(w, rnd, edits);
        t.matrix("token_embd.weight", vocab, embd, 1f);
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            t.vector(p + "attn_norm.weight", embd, 1f, 0.2f);
            t.matrix(p + "attn_q.weight", heads * headDim, embd, 0.3f);
            t.matrix(p + "attn_k.weight", kvHeads * headDim, embd, 0.3f);
            t.matrix(p + "attn_v.weight", kvHeads * headDim, embd, 0.3f);
            t.matrix(p + "attn_output.weight", embd, heads * headDim, 0.2f);
            if (arch.equals("qwen2")) {
                t.vector(p + "attn_q.bias", heads * headDim, 0f, 0.5f);
                t.vector(p + "attn_k.bias", kvHeads * headDim, 0f, 0.5f);
                t.vector(p + "attn_v.bias", kvHeads * headDim, 0f, 0.5f);
            }
            if (arch.equals("qwen3")) {
                t.vector(p + "attn_q_norm.weight", headDim, 1f, 0.2f);
                t.vector(p + "attn_k_norm.weight", headDim, 1f, 0.2f);
            }
            t.vector(p + "ffn_norm.weight", embd, 1f, 0.2f);
            t.matrix(p + "ffn_gate.weight", ff, embd, 0.3f);
            t.matrix(p + "ffn_up.weight", ff, embd, 0.3f);
            t.matrix(p + "ffn_down.weight", embd, ff, 0.2f);
        }
        t.vector("output_norm.weight", embd, 1f, 0.2f);
        if (!tied) t.matrix("output.weight", vocab, embd, 0.3f);
        if (ropeFreqs) {
            float[] f = new float[ropeDims / 2];
            for (int i = 0; i < f.length; i++) f[i] = 1f + i * 0.75f;
            t.add("rope_freqs.weight", GgufTensorType.F32, new long[] {f.length}, Quantize.encode(GgufTensorType.F32, f));
        }
        return w;
    }

    private final class Tensors {
        private final GgufWriter w;
        private final Random rnd;
        private final Edit[] edits;

        Tensors(GgufWriter w, Random rnd, Edit[] edits) {
            this.w = w;
            this.rnd = rnd;
            this.edits = edits;
        }

        void matrix(String name, int rows, int cols, float scale) {
            float[] v = new float[rows * cols];
            for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian() * scale;
            add(name, type, new long[] {cols, rows}, Quantize.encode(type, v));
        }

        void vector(String name, int n, float center, float spread) {
            ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) b.putFloat(center + (float) rnd.nextGaussian() * spread);
            add(name, GgufTensorType.F32, new long[] {n}, b.array());
        }

        void add(String name, GgufTensorType t, long[] dims, byte[] data) {
            for (Edit e : edits) {
                if (!e.name().equals(name)) continue;
                if (e.type() == null) return;
                long n = 1;
                for (long d : e.dims()) n *= d;
                w.addTensor(name, e.type(), e.dims(), new byte[(int) e.type().byteSize(n)]);
                return;
            }
            w.addTensor(name, t, dims, data);
        }
    }

    static int[] tokens(long seed, int n, int vocab) {
        return new Random(seed).ints(n, 0, vocab).toArray();
    }
}
