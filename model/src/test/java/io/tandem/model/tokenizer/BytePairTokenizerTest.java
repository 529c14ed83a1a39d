package io.tandem.model.tokenizer;

import io.tandem.model.gguf.GgufValue;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Single rules of the byte-level BPE tokenizer on hand-made vocabularies. */
class BytePairTokenizerTest {

    @Test
    void mergesByRankNotByPosition() {
        // "b c" is listed after "a b": merging "b c" first would leave a + bc, which has no merge
        TinyVocab v = TinyVocab.bpe("qwen2").merges("a b", "b c", "ab c");
        assertArrayEquals(new int[] {v.id("abc")}, v.tokenizer().encode("abc", false, false));
        TinyVocab reversed = TinyVocab.bpe("qwen2").merges("b c", "a b", "ab c");
        assertArrayEquals(new int[] {reversed.id("a"), reversed.id("bc")}, reversed.tokenizer().encode("abc", false, false));
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        TinyVocab v = TinyVocab.bpe("qwen2").merges("a a");
        assertArrayEquals(new int[] {v.id("aa"), v.id("a")}, v.tokenizer().encode("aaa", false, false));
    }

    @Test
    void wordsAreSpelledInTheByteAlphabet() {
        TinyVocab v = TinyVocab.bpe("qwen2").merges("Ġ h", "Ġh i");
        Tokenizer t = v.tokenizer();
        int[] ids = t.encode("é hi", false, false);
        assertArrayEquals(new int[] {v.id("Ã"), v.id("©"), v.id("Ġhi")}, ids);
        assertEquals("é hi", t.decode(ids, false, false));
        assertEquals(" hi", new String(t.tokenToPiece(v.id("Ġhi"), false), java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void llama3WordsThatAreTokensSkipTheMerges() {
        // "abc" is a token but no merge leads to it: Llama 3 (ignore_merges) still emits it whole
        TinyVocab v = TinyVocab.bpe("llama-bpe").merges("a b").normal("abc", 0);
        assertArrayEquals(new int[] {v.id("abc")}, v.tokenizer().encode("abc", false, false));
        TinyVocab q = TinyVocab.bpe("qwen2").merges("a b").normal("abc", 0);
        assertArrayEquals(new int[] {q.id("ab"), q.id("c")}, q.tokenizer().encode("abc", false, false));
    }

    @Test
    void llama3AddsBosByDefault() {
        TinyVocab v = TinyVocab.bpe("llama-bpe").normal("<|begin_of_text|>", 0);
        v.set("tokenizer.ggml.bos_token_id", GgufValue.uint32(v.id("<|begin_of_text|>")));
        assertArrayEquals(new int[] {v.id("<|begin_of_text|>"), v.id("a")}, v.tokenizer().encode("a", true, false));
        assertArrayEquals(new int[] {v.id("a")}, TinyVocab.bpe("qwen2").tokenizer().encode("a", true, false));
    }

    @Test
    void gpt2VocabulariesCleanSpacesWhenDecoding() {
        Tokenizer gpt2 = TinyVocab.bpe("gpt-2").tokenizer();
        int[] ids = gpt2.encode("Hi , it 's me .", false, false);
        assertEquals("Hi, it's me.", gpt2.decode(ids, false, false));
        Tokenizer qwen = TinyVocab.bpe("qwen2").tokenizer();
        assertEquals("Hi , it 's me .", qwen.decode(qwen.encode("Hi , it 's me .", false, false), false, false));
    }
}
