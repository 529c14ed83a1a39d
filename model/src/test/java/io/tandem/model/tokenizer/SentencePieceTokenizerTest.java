package io.tandem.model.tokenizer;

import io.tandem.model.gguf.GgufValue;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Single rules of the SentencePiece tokenizer on hand-made vocabularies. */
class SentencePieceTokenizerTest {

    @Test
    void mergesTheHighestScoringPairFirst() {
        // "bc" outranks "ab" and "▁a": merging left to right would give ▁a + bc instead
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).normal("a", -9).normal("b", -9).normal("c", -9)
                .normal("▁a", -3).normal("ab", -1).normal("bc", -0.5f).normal("abc", -2);
        assertArrayEquals(new int[] {v.id("▁"), v.id("abc")}, v.tokenizer().encode("abc", false, false));
    }

    @Test
    void equalScoresMergeLeftmostFirst() {
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).normal("a", -9).normal("aa", -1);
        assertArrayEquals(new int[] {v.id("▁"), v.id("aa"), v.id("a")}, v.tokenizer().encode("aaa", false, false));
    }

    @Test
    void charactersWithoutTokenFallBackToBytes() {
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).normal("a", -9);
        int[] ids = v.tokenizer().encode("aé", false, false);
        assertArrayEquals(new int[] {v.id("▁"), v.id("a"), v.id("<0xC3>"), v.id("<0xA9>")}, ids);
        assertEquals("aé", v.tokenizer().decode(ids, false, false));
    }

    @Test
    void withoutByteTokensUnknownCharactersBecomeUnk() {
        TinyVocab v = TinyVocab.spm(false).normal("▁", -9).normal("a", -9);
        assertArrayEquals(new int[] {v.id("▁"), v.id("a"), 0, 0}, v.tokenizer().encode("aé", false, false));
    }

    @Test
    void spacePrefixStartsEverySegmentAfterASpecialToken() {
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).normal("a", -9).normal("b", -9).normal("▁a", -1)
                .normal("▁b", -1);
        Tokenizer t = v.tokenizer();
        assertArrayEquals(new int[] {1, v.id("▁a"), 2, v.id("▁b")}, t.encode("a</s>b", true, true));
        // without parse_special the texts are plain text: one segment, one prefix
        assertEquals(v.id("▁a"), t.encode("a</s>b", false, false)[0]);
        assertEquals(v.id("<0x3C>"), t.encode("a</s>b", false, false)[1]);
    }

    @Test
    void addSpacePrefixFalseIsHonoured() {
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).normal("a", -9).normal("▁a", -1)
                .set("tokenizer.ggml.add_space_prefix", GgufValue.bool(false));
        Tokenizer t = v.tokenizer();
        assertArrayEquals(new int[] {v.id("a")}, t.encode("a", false, false));
        assertEquals(" a", t.decode(new int[] {v.id("▁a")}, false, false), "no prefix to strip");
    }

    @Test
    void decodeStripsTheSpacePrefixUnlessABosWasRemoved() {
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).normal("a", -9).normal("▁a", -1);
        Tokenizer t = v.tokenizer();
        int a = v.id("▁a");
        assertEquals("a", t.decode(new int[] {a}, false, false));
        assertEquals(" a", t.decode(new int[] {1, a}, true, false));
        assertEquals("<s> a", t.decode(new int[] {1, a}, false, true));
        assertEquals(" a", t.decode(new int[] {1, a}, false, false), "the unprinted BOS still takes the strip");
        assertEquals("a</s>", t.decode(new int[] {a, 2}, false, true));
    }

    @Test
    void eosIsAddedWhenTheVocabularyAsksForIt() {
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).set("tokenizer.ggml.add_eos_token", GgufValue.bool(true))
                .set("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
        Tokenizer t = v.tokenizer();
        assertArrayEquals(new int[] {2}, t.encode("", true, false));
        assertArrayEquals(new int[] {v.id("▁"), v.id("▁"), 2}, t.encode(" ", true, false));
        assertEquals("", t.decode(new int[] {v.id("▁"), 2}, true, false), "trailing EOS removed, prefix stripped");
        assertEquals("</s>", t.decode(new int[] {v.id("▁"), 2}, false, true));
    }

    @Test
    void longerSpecialTokensWinAndOnlyUserDefinedOnesSplitWithoutParseSpecial() {
        TinyVocab v = TinyVocab.spm(true).normal("▁", -9).add("<x>", 0, 3).add("<x>y", 0, 3).add("<u>", 0, 4);
        Tokenizer t = v.tokenizer();
        assertArrayEquals(new int[] {v.id("<x>y"), v.id("<x>")}, t.encode("<x>y<x>", false, true));
        int[] plain = t.encode("<x><u>", false, false);
        assertEquals(v.id("<u>"), plain[plain.length - 1], "user-defined tokens always split");
        assertEquals(v.id("<0x3C>"), plain[1], "control text stays text");
    }
}
