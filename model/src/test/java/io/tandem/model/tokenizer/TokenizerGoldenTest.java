package io.tandem.model.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.model.TestData;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import static io.tandem.model.tokenizer.TestTokenizers.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Compares the tokenizers with llama.cpp's outputs, id for id and byte for byte: every tokenize golden case
 * in its four flag combinations, the prompt ids of the generate goldens and the ids of the chat goldens, for
 * all golden models.
 */
class TokenizerGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicNode> tokenizeCases() {
        return TestTokenizers.MODELS.stream().map(model -> {
            List<DynamicNode> cases = new ArrayList<>();
            int i = 0;
            for (JsonNode c : golden(model + ".tokenize.json").get("cases")) {
                String text = c.get("text").asText();
                List<DynamicNode> flags = new ArrayList<>();
                for (JsonNode r : c.get("results")) {
                    boolean addSpecial = r.get("add_special").asBoolean(), parseSpecial = r.get("parse_special").asBoolean();
                    flags.add(dynamicTest("add_special=" + addSpecial + " parse_special=" + parseSpecial,
                            () -> checkCase(model, text, addSpecial, parseSpecial, r)));
                }
                cases.add(dynamicContainer("case " + i++ + " " + label(text), flags));
            }
            return dynamicContainer(model, cases);
        });
    }

    private static void checkCase(String model, String text, boolean addSpecial, boolean parseSpecial, JsonNode r) {
        Tokenizer tok = TestTokenizers.get(model);
        int[] ids = ints(r.get("ids"));
        assertArrayEquals(ids, tok.encode(text, addSpecial, parseSpecial), "ids");

        List<String> pieces = new ArrayList<>();
        for (int id : ids) pieces.add(hex(tok.tokenToPiece(id, true)));
        assertEquals(strings(r.get("pieces_hex")), pieces, "pieces_hex");
        assertEquals(r.get("detokenized_hex").asText(), hex(tok.decodeBytes(ids, false, true)), "detokenized_hex");
        String skipHex = r.get("detokenized_skip_special_hex").asText();
        assertEquals(skipHex, hex(tok.decodeBytes(ids, true, false)), "detokenized_skip_special_hex");

        // streaming the same ids gives the same text as decoding them at once
        if (!r.get("detokenized_skip_special").isNull()) {
            IncrementalDetokenizer detok = tok.newDetokenizer(true);
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                String chunk = detok.push(id);
                assertFalse(chunk.contains("\uFFFD"), "U+FFFD mid-stream for valid UTF-8");
                assertWellFormed(chunk);
                streamed.append(chunk);
            }
            streamed.append(detok.flush());
            assertEquals(r.get("detokenized_skip_special").asText(), streamed.toString(), "streamed text");
        }
    }

    @TestFactory
    Stream<DynamicNode> generatePromptIds() {
        return TestTokenizers.MODELS.stream().map(model -> dynamicContainer(model,
                elements(golden(model + ".generate.json").get("prompts")).map(p -> dynamicTest(p.get("name").asText(),
                        () -> assertArrayEquals(ints(p.get("prompt_ids")), TestTokenizers.get(model).encode(
                                p.get("text").asText(), p.get("add_special").asBoolean(),
                                p.get("parse_special").asBoolean()), "prompt_ids")))));
    }

    @TestFactory
    Stream<DynamicNode> chatIds() {
        return TestTokenizers.MODELS.stream().map(model -> dynamicContainer(model,
                elements(golden(model + ".chat.json").get("cases")).filter(c -> !c.get("rendered").isNull())
                        .flatMap(c -> Stream.of(
                                dynamicTest(c.get("name").asText() + " add_special=false", () -> assertArrayEquals(
                                        ints(c.get("ids")),
                                        TestTokenizers.get(model).encode(c.get("rendered").asText(), false, true))),
                                dynamicTest(c.get("name").asText() + " add_special=true", () -> assertArrayEquals(
                                        ints(c.get("ids_add_special")),
                                        TestTokenizers.get(model).encode(c.get("rendered").asText(), true, true)))))));
    }

    static void assertWellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertEquals(true, i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)), "unpaired surrogate");
                i++;
            } else {
                assertFalse(Character.isLowSurrogate(c), "unpaired surrogate");
            }
        }
    }

    static JsonNode golden(String file) {
        try {
            return JSON.readTree(TestData.golden(file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Stream<JsonNode> elements(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false);
    }

    static int[] ints(JsonNode array) {
        return elements(array).mapToInt(JsonNode::asInt).toArray();
    }

    private static List<String> strings(JsonNode array) {
        return elements(array).map(JsonNode::asText).toList();
    }

    private static String label(String text) {
        String escaped = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t").replace("\0", "\\0");
        return '"' + (escaped.length() > 40 ? escaped.substring(0, 40) + "…" : escaped) + '"';
    }
}
