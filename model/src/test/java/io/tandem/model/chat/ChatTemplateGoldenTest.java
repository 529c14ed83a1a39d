package io.tandem.model.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.model.TestData;
import io.tandem.model.gguf.GgufFile;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every case of testdata/golden/*.chat.json, rendered with the golden template, character for character. */
class ChatTemplateGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** golden name → the GGUF file whose tokenizer.chat_template it was made from. */
    private static final List<String[]> MODELS = List.of(
            new String[] {"tiny-llama-spm-f32", "testdata/models/tiny-llama-spm-f32.gguf"},
            new String[] {"tiny-qwen3-q8_0", "testdata/models/tiny-qwen3-q8_0.gguf"},
            new String[] {"tandem-fortune-5m-f32", "testdata/models/tandem-fortune-5m-f32.gguf"},
            new String[] {"tandem-fortune-5m-q8_0", "model/src/main/resources/io/tandem/model/bundled/tandem-fortune-5m-q8_0.gguf"});

    @TestFactory
    List<DynamicTest> goldenConversations() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (String[] model : MODELS) {
            JsonNode golden = JSON.readTree(TestData.golden(model[0] + ".chat.json").toFile());
            JsonNode vars = golden.get("settings").get("variables");
            ChatTemplate template = ChatTemplate.of(golden.get("chat_template").asText(),
                    vars.get("bos_token").asText(), vars.get("eos_token").asText());
            for (JsonNode c : golden.get("cases")) {
                tests.add(DynamicTest.dynamicTest(model[0] + " " + c.get("name").asText(), () -> check(template, c)));
            }
            tests.add(DynamicTest.dynamicTest(model[0] + " template in the GGUF equals the golden's", () -> {
                Path file = TestData.repoRoot().resolve(model[1]);
                try (GgufFile f = GgufFile.open(file)) {
                    assertEquals(golden.get("chat_template").asText(), f.metadata().getString("tokenizer.chat_template"));
                }
            }));
        }
        return tests;
    }

    private static void check(ChatTemplate template, JsonNode c) throws Exception {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : c.get("messages")) messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        boolean addGenerationPrompt = c.get("add_generation_prompt").asBoolean();
        if (c.get("error").isNull()) {
            assertEquals(c.get("rendered").asText(), template.render(messages, addGenerationPrompt));
        } else {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> template.render(messages, addGenerationPrompt));
            assertEquals(c.get("error").asText(), e.getMessage());
            assertTrue(e.raisedByTemplate());
        }
    }
}
