package io.tandem.model.tokenizer;

import io.tandem.model.gguf.GgufMetadata;
import io.tandem.model.gguf.GgufValue;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static io.tandem.model.tokenizer.TestTokenizers.FORTUNE_Q8;
import static io.tandem.model.tokenizer.TestTokenizers.QWEN;
import static io.tandem.model.tokenizer.TestTokenizers.SPM;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Load-time facts of the golden vocabularies (testdata/README.md 1.1, 1.2, 1.4) and loader errors. */
class TokenizerFactsTest {

    @Test
    void sentencePieceVocabulary() {
        Tokenizer t = TestTokenizers.get(SPM);
        assertEquals(32000, t.vocabSize());
        assertEquals(1, t.bosId());
        assertEquals(2, t.eosId());
        assertArrayEquals(new int[] {2}, t.endOfGenerationIds());
        assertTrue(t.isControl(0), "<unk>");
        assertTrue(t.isControl(1) && t.isControl(2));
        assertFalse(t.isControl(3), "byte tokens are text");
        assertFalse(t.isControl(22557));
        assertEquals("▁Hello", t.tokenText(22557));
        assertArrayEquals(new int[] {2}, TestTokenizers.get(FORTUNE_Q8).endOfGenerationIds());
    }

    @Test
    void qwenVocabularyPromotesEndLookingTokens() {
        Tokenizer t = TestTokenizers.get(QWEN);
        assertEquals(151936, t.vocabSize());
        assertEquals(151643, t.bosId());
        assertEquals(151645, t.eosId());
        assertArrayEquals(new int[] {128247, 151643, 151645, 151662, 151663, 151664}, t.endOfGenerationIds());
        assertEquals("</s>", t.tokenText(128247));
        assertTrue(t.isControl(128247), "NORMAL </s> is promoted to control");
        assertTrue(t.isEndOfGeneration(128247));
        assertFalse(t.isControl(128245), "<s> stays a normal token");
        assertTrue(t.isControl(151669), "[PAD151669] is unused");
        assertEquals(0, t.tokenToPiece(151669, true).length, "unused tokens print nothing");
        assertFalse(t.isControl(151667), "<think> is user-defined text");
    }

    @Test
    void loadingTheQwenVocabularyIsFast() {
        GgufMetadata md = TestTokenizers.metadata(QWEN);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            Tokenizer.fromGguf(md).encode("warm up", false, false);
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("Qwen vocabulary (151936 tokens, 151387 merges) loads in %.0f ms%n", best / 1e6);
        assertTrue(best < 1_500_000_000L, "took " + best / 1_000_000 + " ms");
    }

    @Test
    void unsupportedModelsAndPreTokenizersAreNamed() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", GgufValue.string("bert"));
        m.put("tokenizer.ggml.tokens", GgufValue.stringArray(java.util.List.of("a")));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(GgufMetadata.of(m)));
        assertTrue(e.getMessage().contains("'bert'"), e.getMessage());

        m.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        m.put("tokenizer.ggml.pre", GgufValue.string("falcon"));
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(GgufMetadata.of(m)));
        assertTrue(e.getMessage().contains("'falcon'"), e.getMessage());

        m.remove("tokenizer.ggml.model");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(GgufMetadata.of(m)));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model"), e.getMessage());
    }

    @Test
    void inconsistentArraysAreRejected() {
        Map<String, GgufValue> m = new LinkedHashMap<>(TinyVocab.spm(false).metadata().asMap());
        m.put("tokenizer.ggml.scores", GgufValue.float32Array(0f));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(GgufMetadata.of(m)));
        assertTrue(e.getMessage().contains("scores"), e.getMessage());
    }

    @Test
    void outOfRangeIdsAreRejectedWithTheId() {
        Tokenizer t = TestTokenizers.get(SPM);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.tokenToPiece(32000, true));
        assertTrue(e.getMessage().contains("32000"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {-1}, false, false));
    }
}
