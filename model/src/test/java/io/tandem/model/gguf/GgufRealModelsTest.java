package io.tandem.model.gguf;

import io.tandem.model.TestData;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.tandem.model.gguf.GgufTensorType.F32;
import static io.tandem.model.gguf.GgufTensorType.Q8_0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads the models in testdata/ and checks them against testdata/README.md and FORTUNE-MODEL-README.md. */
class GgufRealModelsTest {

    /** Expected tensor: name, type, ggml dims. */
    record T(String name, GgufTensorType type, long... dims) {
    }

    /** The llama / qwen3 tensor list in file order, as the READMEs describe it. */
    static List<T> expectedTensors(int layers, int embd, int kvDim, int ff, int vocab, boolean quantized,
                                   boolean qwen3) {
        GgufTensorType w = quantized ? Q8_0 : F32;
        List<T> l = new ArrayList<>();
        l.add(new T("token_embd.weight", w, embd, vocab));
        for (int i = 0; i < layers; i++) {
            String b = "blk." + i + ".";
            l.add(new T(b + "attn_norm.weight", F32, embd));
            l.add(new T(b + "attn_q.weight", w, embd, embd));
            l.add(new T(b + "attn_k.weight", w, embd, kvDim));
            l.add(new T(b + "attn_v.weight", w, embd, kvDim));
            if (qwen3) {
                l.add(new T(b + "attn_q_norm.weight", F32, 16));
                l.add(new T(b + "attn_k_norm.weight", F32, 16));
            }
            l.add(new T(b + "attn_output.weight", w, embd, embd));
            l.add(new T(b + "ffn_norm.weight", F32, embd));
            l.add(new T(b + "ffn_gate.weight", w, embd, ff));
            l.add(new T(b + "ffn_up.weight", w, embd, ff));
            l.add(new T(b + "ffn_down.weight", w, ff, embd));
        }
        l.add(new T("output_norm.weight", F32, embd));
        if (!qwen3) l.add(new T("output.weight", w, embd, vocab));
        return l;
    }

    static void assertTensors(GgufFile f, List<T> expected) {
        assertEquals(expected.size(), f.tensors().size());
        long end = 0;
        for (int i = 0; i < expected.size(); i++) {
            T e = expected.get(i);
            TensorInfo t = f.tensors().get(i);
            assertEquals(e.name(), t.name());
            assertEquals(e.type(), t.type(), t.name());
            assertArrayEquals(e.dims(), t.dims(), t.name());
            assertEquals(t, f.tensor(e.name()));
            long n = 1;
            for (long d : e.dims()) n *= d;
            assertEquals(n, t.elementCount());
            assertEquals(e.type() == F32 ? n * 4 : n / 32 * 34, t.byteSize(), t.name());
            assertEquals(0, t.offset() % 32, t.name());
            assertEquals(t.byteSize(), f.tensorData(t).byteSize());
            assertTrue(t.offset() >= end, "tensors do not overlap");
            end = t.offset() + t.byteSize();
        }
        assertEquals(f.size(), f.dataOffset() + end, "the last tensor ends at the end of the file");
    }

    static float f32(MemorySegment s, long index) {
        return s.get(GgufParser.F32, index * 4);
    }

    @Test
    void tinyLlama() throws Exception {
        Path p = TestData.model("tiny-llama-spm-f32");
        assertEquals(9010784, Files.size(p));
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            assertEquals(32, f.alignment());
            GgufMetadata m = f.metadata();
            assertEquals("llama", m.getString("general.architecture"));
            assertEquals("tiny-llama-spm-f32", m.getString("general.name"));
            assertEquals(0, m.getInt("general.file_type", -1));
            assertEquals(GgufValueType.UINT32, m.value("llama.vocab_size").type());
            assertEquals(32000, m.getInt("llama.vocab_size", 0));
            assertEquals(512, m.getInt("llama.context_length", 0));
            assertEquals(2, m.getLong("llama.attention.head_count_kv", 0));
            assertEquals(10000f, m.getFloat("llama.rope.freq_base", 0));
            assertEquals(1e-5f, m.getFloat("llama.attention.layer_norm_rms_epsilon", 0));
            assertEquals("llama", m.getString("tokenizer.ggml.model"));
            assertEquals("default", m.getString("tokenizer.ggml.pre"));
            List<String> tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertEquals(32000, tokens.size());
            assertEquals("<unk>", tokens.get(0));
            assertEquals("<s>", tokens.get(1));
            assertEquals("<0x0A>", tokens.get(13));
            assertEquals("▁Hello", tokens.get(22557));
            assertEquals("▁", tokens.get(28705));
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertEquals(2, types[0]);
            assertEquals(3, types[1]);
            assertEquals(6, types[3]);
            assertEquals(1, types[259]);
            float[] scores = m.getFloatArray("tokenizer.ggml.scores");
            assertEquals(-(1000 - 259), scores[1000]);
            assertEquals(1, m.getInt("tokenizer.ggml.bos_token_id", -1));
            assertTrue(m.getBool("tokenizer.ggml.add_bos_token", false));
            assertFalse(m.getBool("tokenizer.ggml.add_eos_token", true));
            assertFalse(m.contains("tokenizer.ggml.add_space_prefix"));
            assertTrue(m.getString("tokenizer.chat_template").contains("[INST]"));
            assertTensors(f, expectedTensors(2, 32, 16, 96, 32000, false, false));
            MemorySegment norm = f.tensorData(f.tensor("output_norm.weight"));
            for (int i = 0; i < 32; i++) assertTrue(Float.isFinite(f32(norm, i)));
        }
    }

    @Test
    void tinyQwen3() throws Exception {
        Path p = TestData.model("tiny-qwen3-q8_0");
        assertEquals(16345824, Files.size(p));
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(3, f.version());
            GgufMetadata m = f.metadata();
            assertEquals("qwen3", m.getString("general.architecture"));
            assertEquals(7, m.getInt("general.file_type", -1));
            assertEquals(2, m.getInt("general.quantization_version", -1));
            assertEquals(151936, m.getInt("qwen3.vocab_size", 0));
            assertEquals(16, m.getInt("qwen3.attention.key_length", 0));
            assertEquals(1_000_000f, m.getFloat("qwen3.rope.freq_base", 0));
            assertEquals(1e-6f, m.getFloat("qwen3.attention.layer_norm_rms_epsilon", 0));
            assertEquals("gpt2", m.getString("tokenizer.ggml.model"));
            assertEquals("qwen2", m.getString("tokenizer.ggml.pre"));
            List<String> tokens = m.getStringArray("tokenizer.ggml.tokens");
            assertEquals(151936, tokens.size());
            assertEquals("<|endoftext|>", tokens.get(151643));
            assertEquals("<|im_end|>", tokens.get(151645));
            assertEquals("[PAD151669]", tokens.get(151669));
            assertEquals("[PAD151935]", tokens.get(151935));
            int[] types = m.getIntArray("tokenizer.ggml.token_type");
            assertEquals(151936, types.length);
            assertEquals(3, types[151643]);
            assertEquals(5, types[151669]);
            List<String> merges = m.getStringArray("tokenizer.ggml.merges");
            assertEquals(151387, merges.size());
            assertTrue(merges.stream().allMatch(s -> s.indexOf(' ') > 0), "merges are 'left right'");
            assertEquals(151645, m.getInt("tokenizer.ggml.eos_token_id", -1));
            assertFalse(m.getBool("tokenizer.ggml.add_bos_token", true));
            assertTrue(m.getString("tokenizer.chat_template").contains("<|im_start|>"));
            assertTensors(f, expectedTensors(2, 64, 32, 128, 151936, true, true));
            assertFalse(f.hasTensor("output.weight"), "qwen3 output is tied to token_embd");
            // A Q8_0 block starts with a finite half-precision scale.
            MemorySegment emb = f.tensorData(f.tensor("token_embd.weight"));
            for (int b = 0; b < 100; b++) {
                short h = emb.get(GgufParser.U16, b * 34L);
                assertTrue(Float.isFinite(Float.float16ToFloat(h)));
            }
        }
    }

    @Test
    void fortuneF32AndBundledQ8() throws Exception {
        for (Path p : List.of(TestData.model("tandem-fortune-5m-f32"), TestData.bundledModelSource())) {
            boolean q8 = p.getFileName().toString().contains("q8_0");
            assertEquals(q8 ? 7036192 : 26191104, Files.size(p));
            try (GgufFile f = GgufFile.open(p)) {
                GgufMetadata m = f.metadata();
                assertEquals("llama", m.getString("general.architecture"));
                assertEquals("tandem-fortune-5m", m.getString("general.name"));
                assertTrue(m.getString("general.description").startsWith("tiny llama-architecture model"));
                assertEquals(q8 ? 7 : 0, m.getInt("general.file_type", -1));
                assertEquals(q8, m.contains("general.quantization_version"));
                assertEquals(4096, m.getInt("llama.vocab_size", 0));
                assertEquals(256, m.getInt("llama.context_length", 0));
                assertEquals(704, m.getInt("llama.feed_forward_length", 0));
                assertFalse(m.contains("llama.attention.key_length"));
                List<String> tokens = m.getStringArray("tokenizer.ggml.tokens");
                assertEquals(4096, tokens.size());
                assertEquals("▁", tokens.get(4010));
                assertEquals("<0xFF>", tokens.get(258));
                float[] scores = m.getFloatArray("tokenizer.ggml.scores");
                assertEquals(0f, scores[258]);
                assertEquals(-(4095 - 259), scores[4095]);
                assertTensors(f, expectedTensors(6, 256, 128, 704, 4096, q8, false));
                long params = f.tensors().stream().mapToLong(TensorInfo::elementCount).sum();
                assertEquals(6_524_160, params);
            }
        }
    }

    @Test
    void sameWeightsInFortuneFiles() throws Exception {
        // The Q8_0 file is the F32 one quantized: dequantized values are within half a quantization step,
        // plus the rounding of the scale to half precision (relative 2^-11, times |q| <= 127).
        try (GgufFile f32 = GgufFile.open(TestData.model("tandem-fortune-5m-f32"));
             GgufFile q8 = GgufFile.open(TestData.bundledModelSource())) {
            MemorySegment a = f32.tensorData(f32.tensor("blk.0.attn_q.weight"));
            MemorySegment b = q8.tensorData(q8.tensor("blk.0.attn_q.weight"));
            for (int block = 0; block < 64; block++) {
                float d = Float.float16ToFloat(b.get(GgufParser.U16, block * 34L));
                for (int j = 0; j < 32; j++) {
                    float q = d * b.get(java.lang.foreign.ValueLayout.JAVA_BYTE, block * 34L + 2 + j);
                    assertEquals(f32(a, block * 32L + j), q, Math.abs(d) * (0.5f + 127f / 2048f) + 1e-7f);
                }
            }
            assertEquals(ByteOrder.LITTLE_ENDIAN, GgufParser.F32.order());
        }
    }

    @Test
    void closeUnmapsTheFile() throws Exception {
        GgufFile f = GgufFile.open(TestData.model("tiny-llama-spm-f32"));
        MemorySegment data = f.tensorData(f.tensor("output_norm.weight"));
        f32(data, 0);
        f.close();
        f.close(); // idempotent
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> f32(data, 0));
    }
}
