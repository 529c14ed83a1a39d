package io.tandem.model.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreTokenizerTest {
    private static List<String> split(String pre, String text) {
        return PreTokenizer.forName(pre).split(text);
    }

    @Test
    void digitGrouping() {
        assertEquals(List.of("1", "2", "3", "4", "5"), split("qwen2", "12345"));
        assertEquals(List.of("123", "45"), split("llama-bpe", "12345"));
        assertEquals(List.of("12345"), split("gpt-2", "12345"));
    }

    @Test
    void contractions() {
        assertEquals(List.of("I", "'M", " here"), split("qwen2", "I'M here"));
        assertEquals(List.of("I", "'M", " here"), split("llama-bpe", "I'M here"));
        assertEquals(List.of("I", "'", "M", " here"), split("gpt-2", "I'M here"), "GPT-2: lower case only");
        assertEquals(List.of("I", "'m", " here"), split("gpt-2", "I'm here"));
    }

    @Test
    void whitespaceRunsLeaveTheLastSpaceToTheNextWord() {
        assertEquals(List.of("Hello", " ", " world", "  "), split("qwen2", "Hello  world  "));
        assertEquals(List.of("a", "\n\n", "b"), split("qwen2", "a\n\nb"));
        assertEquals(List.of("a", " \n", " b"), split("llama-bpe", "a \n b"));
    }

    @Test
    void unicodeWhitespaceIsWhitespaceButZeroWidthSpaceIsNot() {
        // NBSP (White_Space) glues to the following letters like a space would ([^\r\n\p{L}\p{N}]?\p{L}+)
        assertEquals(List.of("a", "\u00A0b"), split("qwen2", "a\u00A0b"));
        assertEquals(List.of("a", "\u3000", " b"), split("qwen2", "a\u3000 b"));
        // U+200B is a format character: punctuation-like, not whitespace
        assertEquals(List.of("a", "\u200B", "b"), split("gpt-2", "a\u200Bb"));
    }

    @Test
    void llamaCppDefaultSplitsPunctuationThenWordsThenDigitTriples() {
        assertEquals(List.of("hello", ",", " world", "!!"), split("default", "hello, world!!"));
        assertEquals(List.of("abc", " ", "123", "45"), split("default", "abc 12345"));
    }

    @Test
    void unsupportedPreTokenizerIsNamed() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> PreTokenizer.forName("falcon"));
        assertTrue(e.getMessage().contains("'falcon'"), e.getMessage());
    }
}
