package io.tandem.model;

import io.tandem.model.gguf.GgufMetadata;

import java.util.List;

/**
 * The hyper-parameters of a transformer, read from GGUF metadata keys {@code <arch>.*}.
 *
 * @param arch               {@code general.architecture}: llama, qwen2 or qwen3
 * @param name               {@code general.name}, or the arch when absent
 * @param headDim            per-head size of queries and keys ({@code attention.key_length}, default embd / heads)
 * @param valueDim           per-head size of values ({@code attention.value_length}, default embd / heads)
 * @param ropeDimensionCount dimensions rotated by RoPE (default headDim)
 * @param ropeScaling        context-extension scaling, {@link RopeScaling#NONE} when the file has none
 */
public record ModelConfig(String arch, String name, int vocabSize, int contextLength, int embeddingLength,
                          int blockCount, int feedForwardLength, int headCount, int headCountKv, int headDim,
                          int valueDim, int ropeDimensionCount, float ropeFreqBase, RopeScaling ropeScaling,
                          float rmsEps) {

    public static final List<String> SUPPORTED_ARCHITECTURES = List.of("llama", "qwen2", "qwen3");

    /** RoPE scaling: {@code type} is none, linear or yarn (as in {@code <arch>.rope.scaling.type}). */
    public record RopeScaling(String type, float factor, int originalContextLength) {
        public static final RopeScaling NONE = new RopeScaling("none", 1.0f, 0);
    }

    /** Reads the config; throws {@link IllegalArgumentException} naming the arch or key that is unsupported or missing. */
    public static ModelConfig from(GgufMetadata m) {
        if (!m.contains("general.architecture")) {
            throw new IllegalArgumentException("missing metadata key 'general.architecture'");
        }
        String arch = m.getString("general.architecture");
        if (!SUPPORTED_ARCHITECTURES.contains(arch)) {
            throw new IllegalArgumentException("unsupported model architecture '" + arch + "' (supported: "
                    + String.join(", ", SUPPORTED_ARCHITECTURES) + ")");
        }
        Keys k = new Keys(m, arch);
        int embd = k.required("embedding_length");
        int heads = k.required("attention.head_count");
        int headsKv = k.optional("attention.head_count_kv", heads);
        if (headsKv <= 0 || heads % headsKv != 0) {
            throw new IllegalArgumentException(arch + ".attention.head_count " + heads
                    + " is not a multiple of head_count_kv " + headsKv);
        }
        if ((!m.contains(arch + ".attention.key_length") || !m.contains(arch + ".attention.value_length"))
                && embd % heads != 0) {
            throw new IllegalArgumentException(arch + ".embedding_length " + embd + " is not a multiple of head_count "
                    + heads + " and no attention.key_length/value_length is given");
        }
        int headDim = k.optional("attention.key_length", embd / heads);
        int valueDim = k.optional("attention.value_length", embd / heads);
        int ropeDims = k.optional("rope.dimension_count", headDim);
        if (ropeDims > headDim || ropeDims % 2 != 0) {
            throw new IllegalArgumentException(arch + ".rope.dimension_count " + ropeDims
                    + " must be even and at most the head dimension " + headDim);
        }
        float eps = m.getFloat(arch + ".attention.layer_norm_rms_epsilon", Float.NaN);
        if (!(eps > 0)) {
            throw new IllegalArgumentException("missing or invalid metadata key '" + arch
                    + ".attention.layer_norm_rms_epsilon'");
        }
        return new ModelConfig(arch, m.getString("general.name", arch), vocabSize(m, arch),
                k.required("context_length"), embd, k.required("block_count"), k.required("feed_forward_length"),
                heads, headsKv, headDim, valueDim, ropeDims, m.getFloat(arch + ".rope.freq_base", 10000f),
                ropeScaling(m, arch), eps);
    }

    /** Grouped-query attention: query heads per KV head. */
    public int queriesPerKvHead() {
        return headCount / headCountKv;
    }

    /** True when RoPE rotates pairs (i, i + d/2) (NeoX style: qwen2, qwen3), false for pairs (2i, 2i+1) (llama). */
    public boolean ropeNeox() {
        return !arch.equals("llama");
    }

    private static int vocabSize(GgufMetadata m, String arch) {
        if (m.contains(arch + ".vocab_size")) return new Keys(m, arch).required("vocab_size");
        if (m.contains("tokenizer.ggml.tokens")) return m.getStringArray("tokenizer.ggml.tokens").size();
        throw new IllegalArgumentException("missing metadata keys '" + arch + ".vocab_size' and 'tokenizer.ggml.tokens'");
    }

    private static RopeScaling ropeScaling(GgufMetadata m, String arch) {
        String p = arch + ".rope.scaling.";
        String type = m.getString(p + "type", null);
        float factor = m.getFloat(p + "factor", 0f);
        if (type == null && m.contains(arch + ".rope.scale_linear")) { // older files
            type = "linear";
            factor = m.getFloat(arch + ".rope.scale_linear", 1f);
        }
        if (type == null || type.equals("none") || factor == 0f || factor == 1f) return RopeScaling.NONE;
        return new RopeScaling(type, factor, m.getInt(p + "original_context_length", 0));
    }

    private record Keys(GgufMetadata m, String arch) {
        int required(String key) {
            String full = arch + "." + key;
            if (!m.contains(full)) throw new IllegalArgumentException("missing metadata key '" + full + "'");
            return positive(full, m.getInt(full, 0));
        }

        int optional(String key, int def) {
            String full = arch + "." + key;
            return positive(full, m.getInt(full, def));
        }

        private static int positive(String key, int v) {
            if (v <= 0) throw new IllegalArgumentException("metadata key '" + key + "' must be positive, got " + v);
            return v;
        }
    }
}
