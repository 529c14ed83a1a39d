package io.tandem.engine.forward;

import io.tandem.engine.kernels.WeightMatrix;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;

import java.util.ArrayList;
import java.util.List;

/**
 * The weights of a llama / qwen2 / qwen3 model in a GGUF file, with every shape checked against the config.
 * {@code output} is {@code token_embd} when the file has no {@code output.weight} (tied embeddings);
 * {@code ropeFreqFactors} is null unless the file has {@code rope_freqs.weight}.
 */
public record ModelWeights(ModelConfig config, WeightMatrix tokenEmbd, List<LayerWeights> layers, float[] outputNorm,
                           WeightMatrix output, float[] ropeFreqFactors) {

    /** Maps the weights of {@code file}; throws IllegalArgumentException naming any missing or malformed tensor. */
    public static ModelWeights load(GgufFile file, ModelConfig c) {
        Loader ld = new Loader(file);
        int e = c.embeddingLength(), qDim = c.headCount() * c.headDim(), kvDim = c.headCountKv() * c.headDim();
        int vDim = c.headCountKv() * c.valueDim(), oDim = c.headCount() * c.valueDim();
        boolean qwen2 = c.arch().equals("qwen2"), qwen3 = c.arch().equals("qwen3");
        WeightMatrix tokenEmbd = ld.matrix("token_embd.weight", c.vocabSize(), e);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < c.blockCount(); i++) {
            String p = "blk." + i + ".";
            layers.add(new LayerWeights(
                    ld.vector(p + "attn_norm.weight", e),
                    ld.matrix(p + "attn_q.weight", qDim, e),
                    ld.matrix(p + "attn_k.weight", kvDim, e),
                    ld.matrix(p + "attn_v.weight", vDim, e),
                    ld.matrix(p + "attn_output.weight", e, oDim),
                    ld.optionalVector(p + "attn_q.bias", qDim, qwen2),
                    ld.optionalVector(p + "attn_k.bias", kvDim, qwen2),
                    ld.optionalVector(p + "attn_v.bias", vDim, qwen2),
                    ld.optionalVector(p + "attn_q_norm.weight", c.headDim(), qwen3),
                    ld.optionalVector(p + "attn_k_norm.weight", c.headDim(), qwen3),
                    ld.vector(p + "ffn_norm.weight", e),
                    ld.matrix(p + "ffn_gate.weight", c.feedForwardLength(), e),
                    ld.matrix(p + "ffn_up.weight", c.feedForwardLength(), e),
                    ld.matrix(p + "ffn_down.weight", e, c.feedForwardLength())));
        }
        float[] outputNorm = ld.vector("output_norm.weight", e);
        WeightMatrix output = file.hasTensor("output.weight") ? ld.matrix("output.weight", c.vocabSize(), e) : tokenEmbd;
        float[] freqs = ld.optionalVector("rope_freqs.weight", c.ropeDimensionCount() / 2, false);
        return new ModelWeights(c, tokenEmbd, List.copyOf(layers), outputNorm, output, freqs);
    }

    /** Bytes of weights read to produce one token at batch 1 (every matrix but the embedding table, plus one row). */
    public long bytesPerToken() {
        long sum = output.byteSize() + tokenEmbd.rowBytes();
        for (LayerWeights l : layers) {
            for (WeightMatrix m : List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down())) sum += m.byteSize();
        }
        return sum;
    }

    /** Number of parameters (matrices and vectors; a tied output counted once). */
    public long parameterCount() {
        long n = tokenEmbd.elementCount() + outputNorm.length + (output == tokenEmbd ? 0 : output.elementCount());
        for (LayerWeights l : layers) {
            for (WeightMatrix m : List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down())) n += m.elementCount();
            n += l.attnNorm().length + l.ffnNorm().length;
            for (float[] v : new float[][] {l.bq(), l.bk(), l.bv(), l.qNorm(), l.kNorm()}) n += v == null ? 0 : v.length;
        }
        return n;
    }

    private record Loader(GgufFile file) {
        WeightMatrix matrix(String name, int rows, int cols) {
            if (!file.hasTensor(name)) throw new IllegalArgumentException("model has no tensor '" + name + "'");
            WeightMatrix m = WeightMatrix.of(file, name);
            if (m.rows() != rows || m.cols() != cols) {
                throw new IllegalArgumentException("tensor '" + name + "' has shape [" + m.cols() + ", " + m.rows()
                        + "], expected [" + cols + ", " + rows + "]");
            }
            return m;
        }

        float[] vector(String name, int length) {
            return matrix(name, 1, length).toFloatArray();
        }

        float[] optionalVector(String name, int length, boolean required) {
            if (!required && !file.hasTensor(name)) return null;
            return vector(name, length);
        }
    }
}
