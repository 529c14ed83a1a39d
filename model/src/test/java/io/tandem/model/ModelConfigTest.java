package io.tandem.model;

import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufMetadata;
import io.tandem.model.gguf.GgufValue;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelConfigTest {

    static ModelConfig config(Path p) throws Exception {
        try (GgufFile f = GgufFile.open(p)) {
            return ModelConfig.from(f.metadata());
        }
    }

    @Test
    void tinyLlama() throws Exception {
        assertEquals(new ModelConfig("llama", "tiny-llama-spm-f32", 32000, 512, 32, 2, 96, 4, 2, 8, 8, 8,
                10000f, ModelConfig.RopeScaling.NONE, 1e-5f), config(TestData.model("tiny-llama-spm-f32")));
    }

    @Test
    void tinyQwen3() throws Exception {
        ModelConfig c = config(TestData.model("tiny-qwen3-q8_0"));
        assertEquals(new ModelConfig("qwen3", "tiny-qwen3-q8_0", 151936, 1024, 64, 2, 128, 4, 2, 16, 16, 16,
                1_000_000f, ModelConfig.RopeScaling.NONE, 1e-6f), c);
        assertTrue(c.ropeNeox());
        assertEquals(2, c.queriesPerKvHead());
    }

    @Test
    void fortuneModels() throws Exception {
        ModelConfig expected = new ModelConfig("llama", "tandem-fortune-5m", 4096, 256, 256, 6, 704, 8, 4, 32, 32,
                32, 10000f, ModelConfig.RopeScaling.NONE, 1e-5f);
        assertEquals(expected, config(TestData.model("tandem-fortune-5m-f32")));
        assertEquals(expected, config(TestData.bundledModelSource()));
        assertFalse(expected.ropeNeox());
    }

    static Map<String, GgufValue> minimal(String arch) {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.string(arch));
        m.put(arch + ".context_length", GgufValue.uint32(128));
        m.put(arch + ".embedding_length", GgufValue.uint32(64));
        m.put(arch + ".block_count", GgufValue.uint32(2));
        m.put(arch + ".feed_forward_length", GgufValue.uint32(96));
        m.put(arch + ".attention.head_count", GgufValue.uint32(8));
        m.put(arch + ".attention.layer_norm_rms_epsilon", GgufValue.float32(1e-6f));
        m.put("tokenizer.ggml.tokens", GgufValue.stringArray(List.of("a", "b", "c")));
        return m;
    }

    @Test
    void defaultsApplyWhenOptionalKeysAreAbsent() {
        ModelConfig c = ModelConfig.from(GgufMetadata.of(minimal("qwen2")));
        assertEquals("qwen2", c.name()); // no general.name
        assertEquals(3, c.vocabSize()); // from the token list
        assertEquals(8, c.headCountKv());
        assertEquals(8, c.headDim());
        assertEquals(8, c.ropeDimensionCount());
        assertEquals(10000f, c.ropeFreqBase());
        assertEquals(ModelConfig.RopeScaling.NONE, c.ropeScaling());
    }

    @Test
    void ropeScalingIsRead() {
        Map<String, GgufValue> m = minimal("llama");
        m.put("llama.rope.scaling.type", GgufValue.string("yarn"));
        m.put("llama.rope.scaling.factor", GgufValue.float32(4f));
        m.put("llama.rope.scaling.original_context_length", GgufValue.uint32(32768));
        assertEquals(new ModelConfig.RopeScaling("yarn", 4f, 32768), ModelConfig.from(GgufMetadata.of(m)).ropeScaling());
        Map<String, GgufValue> legacy = minimal("llama");
        legacy.put("llama.rope.scale_linear", GgufValue.float32(2f));
        assertEquals(new ModelConfig.RopeScaling("linear", 2f, 0), ModelConfig.from(GgufMetadata.of(legacy)).ropeScaling());
    }

    @Test
    void unsupportedOrIncompleteModelsAreRefusedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.from(GgufMetadata.of(minimal("gemma2"))));
        assertTrue(e.getMessage().contains("'gemma2'"), e.getMessage());
        Map<String, GgufValue> m = minimal("llama");
        m.remove("llama.block_count");
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.from(GgufMetadata.of(m)));
        assertTrue(e.getMessage().contains("llama.block_count"), e.getMessage());
        Map<String, GgufValue> gqa = minimal("llama");
        gqa.put("llama.attention.head_count_kv", GgufValue.uint32(3));
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.from(GgufMetadata.of(gqa)));
        assertTrue(e.getMessage().contains("head_count_kv"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.from(GgufMetadata.of(Map.of())));
    }
}
