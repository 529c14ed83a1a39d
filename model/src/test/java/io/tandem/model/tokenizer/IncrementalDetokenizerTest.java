package io.tandem.model.tokenizer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import static io.tandem.model.tokenizer.TestTokenizers.QWEN;
import static io.tandem.model.tokenizer.TestTokenizers.SPM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IncrementalDetokenizerTest {

    @Test
    void holdsBackACharacterSplitAcrossTokens() {
        Tokenizer qwen = TestTokenizers.get(QWEN);
        int[] ids = qwen.encode("\u200D", false, false); // a character byte-level BPE has no token for
        assertEquals(2, ids.length, "the zero-width joiner is split into byte pieces");
        IncrementalDetokenizer d = qwen.newDetokenizer();
        assertEquals("", d.push(ids[0]));
        assertEquals("\u200D", d.push(ids[1]));
        assertEquals("", d.flush());
    }

    @Test
    void byteFallbackTokensAssembleSupplementaryCharacters() {
        Tokenizer spm = TestTokenizers.get(SPM);
        int[] bytes = new int[4];
        byte[] utf8 = "\uD83E\uDD99".getBytes(java.nio.charset.StandardCharsets.UTF_8); // 🦙, 4 bytes
        for (int i = 0; i < 4; i++) bytes[i] = tokenWithText(spm, String.format("<0x%02X>", utf8[i] & 0xFF));
        IncrementalDetokenizer d = spm.newDetokenizer();
        for (int i = 0; i < 3; i++) assertEquals("", d.push(bytes[i]));
        assertEquals("\uD83E\uDD99", d.push(bytes[3]));
    }

    @Test
    void unfinishedSequenceBecomesReplacementCharacterOnFlush() {
        Tokenizer qwen = TestTokenizers.get(QWEN);
        int[] ids = qwen.encode("\u200D", false, false);
        IncrementalDetokenizer d = qwen.newDetokenizer();
        assertEquals("", d.push(ids[0]));
        assertEquals("\uFFFD", d.flush());
    }

    @Test
    void controlTokensPrintNothingUserDefinedTokensPrintTheirText() {
        Tokenizer qwen = TestTokenizers.get(QWEN);
        IncrementalDetokenizer d = qwen.newDetokenizer();
        assertEquals("", d.push(qwen.eosId()));
        int think = qwen.encode("<think>", false, false)[0];
        assertEquals("<think>", d.push(think));
    }

    @Test
    void leadingSpaceIsKeptForContinuationsAndStrippedOnRequest() {
        Tokenizer spm = TestTokenizers.get(SPM);
        int[] ids = spm.encode("Hello", false, false);
        assertEquals(" Hello", stream(spm.newDetokenizer(), ids));
        assertEquals("Hello", stream(spm.newDetokenizer(true), ids));
        assertEquals(" Hello", stream(spm.newDetokenizer(true), spm.encode("Hello", true, false)), "after a BOS");
    }

    @Property(tries = 300)
    void byteLevelBpeRoundTripsAnyText(@ForAll("texts") String text) {
        Tokenizer qwen = TestTokenizers.get(QWEN);
        assertEquals(text, stream(qwen.newDetokenizer(), qwen.encode(text, false, false)));
    }

    @Property(tries = 300)
    void sentencePieceRoundTripsAnyText(@ForAll("texts") String text) {
        Tokenizer spm = TestTokenizers.get(SPM);
        String plain = text.replace('\u2581', ' '); // ▁ is SentencePiece's own spelling of a space
        assertEquals(plain, stream(spm.newDetokenizer(true), spm.encode(plain, false, false)));
        String afterBos = plain.isEmpty() ? "" : " " + plain; // an empty text gets no space prefix
        assertEquals(afterBos, stream(spm.newDetokenizer(true), spm.encode(plain, true, false)));
    }

    private static int tokenWithText(Tokenizer t, String text) {
        for (int id = 0; id < t.vocabSize(); id++) if (t.tokenText(id).equals(text)) return id;
        throw new AssertionError("no token " + text);
    }

    /** Streams the ids; every chunk must be well-formed UTF-16. */
    private static String stream(IncrementalDetokenizer d, int[] ids) {
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String chunk = d.push(id);
            TokenizerGoldenTest.assertWellFormed(chunk);
            out.append(chunk);
        }
        return out.append(d.flush()).toString();
    }

    /** Mostly ASCII, with Latin, CJK, supplementary characters (emoji) and whitespace of all kinds. */
    @Provide
    Arbitrary<String> texts() {
        Arbitrary<Integer> cp = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.integers().between(0, 0x7F)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0x80, 0x7FF)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0x800, 0xFFFD)
                        .filter(c -> c < 0xD800 || c > 0xDFFF)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0x10000, 0x10FFFF)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(0x20, 0x0A, 0x09, 0xA0, 0x3000, 0x200B, 0x2028)));
        return cp.list().ofMaxSize(40).map(cps -> {
            StringBuilder sb = new StringBuilder();
            cps.forEach(sb::appendCodePoint);
            return sb.toString();
        });
    }
}
