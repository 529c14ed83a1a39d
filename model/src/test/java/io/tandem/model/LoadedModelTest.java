package io.tandem.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.model.chat.ChatMessage;
import io.tandem.model.chat.ChatTemplate;
import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufWriter;
import io.tandem.model.gguf.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoadedModelTest {

    /** Template, BOS/EOS texts from the tokenizer and tokenization together reproduce the chat goldens' ids. */
    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-spm-f32", "tiny-qwen3-q8_0", "tandem-fortune-5m-f32", "tandem-fortune-5m-q8_0"})
    void chatGoldensEndToEnd(String name) throws Exception {
        Path file = name.endsWith("q8_0") && name.startsWith("tandem") ? BundledModel.path() : TestData.model(name);
        JsonNode golden = new ObjectMapper().readTree(TestData.golden(name + ".chat.json").toFile());
        try (LoadedModel model = LoadedModel.open(file)) {
            assertEquals(name.startsWith("tandem") ? "tandem-fortune-5m" : name, model.name());
            assertTrue(model.hasOwnChatTemplate());
            assertEquals(golden.get("chat_template").asText(), model.chatTemplate().source());
            assertEquals(golden.get("settings").get("variables").get("bos_token").asText(), model.chatTemplate().bosToken());
            assertEquals(golden.get("settings").get("variables").get("eos_token").asText(), model.chatTemplate().eosToken());
            for (JsonNode c : golden.get("cases")) {
                if (c.get("rendered").isNull()) continue;
                List<ChatMessage> messages = new ArrayList<>();
                for (JsonNode m : c.get("messages")) messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
                String text = model.chatTemplate().render(messages, c.get("add_generation_prompt").asBoolean());
                int[] expected = new ObjectMapper().convertValue(c.get("ids"), int[].class);
                assertArrayEquals(expected, model.tokenizer().encode(text, false, true), name + " " + c.get("name"));
            }
            assertEquals(model.config().vocabSize(), model.tokenizer().vocabSize());
        }
    }

    /** Rewrites tiny-llama with some metadata keys removed or changed. */
    static Path variant(Path dir, String fileName, String removeKey, String setKey, String setValue) throws Exception {
        Path out = dir.resolve(fileName);
        try (GgufFile f = GgufFile.open(TestData.model("tiny-llama-spm-f32"))) {
            GgufWriter w = new GgufWriter().putAll(f.metadata());
            if (removeKey != null) w.remove(removeKey);
            if (setKey != null) w.putString(setKey, setValue);
            for (TensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            w.write(out);
        }
        return out;
    }

    @Test
    void modelsWithoutATemplateGetChatMlAndFileNameFallback(@TempDir Path dir) throws Exception {
        Path noTemplate = variant(dir, "no-template.gguf", "tokenizer.chat_template", null, null);
        try (LoadedModel m = LoadedModel.open(noTemplate)) {
            assertFalse(m.hasOwnChatTemplate());
            assertEquals(ChatTemplate.CHATML_SOURCE, m.chatTemplate().source());
            assertEquals("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                    m.chatTemplate().render(List.of(ChatMessage.user("hi")), true));
        }
        Path noName = variant(dir, "Nameless.GGUF", "general.name", null, null);
        try (LoadedModel m = LoadedModel.open(noName)) {
            assertEquals("Nameless", m.name());
        }
    }

    @Test
    void unusableModelsAreRefusedWithTheReason(@TempDir Path dir) throws Exception {
        Path gemma = variant(dir, "gemma.gguf", null, "general.architecture", "gemma");
        var e = assertThrows(IllegalArgumentException.class, () -> LoadedModel.open(gemma));
        assertTrue(e.getMessage().contains("'gemma'"), e.getMessage());
        Path badTemplate = variant(dir, "bad-template.gguf", null, "tokenizer.chat_template", "{% for m in messages %}");
        e = assertThrows(IllegalArgumentException.class, () -> LoadedModel.open(badTemplate));
        assertTrue(e.getMessage().contains("chat template"), e.getMessage());
        Path badTokenizer = variant(dir, "bad-tokenizer.gguf", null, "tokenizer.ggml.model", "no-such-tokenizer");
        assertThrows(IllegalArgumentException.class, () -> LoadedModel.open(badTokenizer));
    }

    @Test
    void tensorsAreReachableThroughTheModel() throws Exception {
        try (LoadedModel m = LoadedModel.open(BundledModel.path())) {
            assertEquals(57, m.gguf().tensors().size());
            assertTrue(Arrays.stream(m.tokenizer().endOfGenerationIds()).anyMatch(id -> id == 2));
        }
    }
}
