package io.tandem.model.tokenizer;

import io.tandem.model.gguf.GgufMetadata;
import io.tandem.model.gguf.GgufValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds small GGUF vocabularies in memory, for tests of single tokenizer rules. */
final class TinyVocab {
    private final List<String> tokens = new ArrayList<>();
    private final List<Float> scores = new ArrayList<>();
    private final List<Integer> types = new ArrayList<>();
    private final Map<String, GgufValue> extra = new LinkedHashMap<>();

    /** A SentencePiece layout: <unk>, <s>, </s>, then optionally the 256 byte tokens. */
    static TinyVocab spm(boolean byteTokens) {
        TinyVocab v = new TinyVocab();
        v.extra.put("tokenizer.ggml.model", GgufValue.string("llama"));
        v.add("<unk>", 0, 2).add("<s>", 0, 3).add("</s>", 0, 3);
        if (byteTokens) for (int b = 0; b < 256; b++) v.add(String.format("<0x%02X>", b), 0, 6);
        return v;
    }

    /** A byte-level BPE layout: the 256 single-byte symbols first (ids = byte order of GPT-2's alphabet). */
    static TinyVocab bpe(String pre) {
        TinyVocab v = new TinyVocab();
        v.extra.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        v.extra.put("tokenizer.ggml.pre", GgufValue.string(pre));
        for (int b = 0; b < 256; b++) v.add(String.valueOf(ByteLevel.charOf(b)), 0, 1);
        return v.merges();
    }

    /** Adds merges (in rank order) and their result tokens; texts are in GPT-2's byte alphabet. */
    TinyVocab merges(String... merges) {
        for (String m : merges) normal(m.replace(" ", ""), 0);
        extra.put("tokenizer.ggml.merges", GgufValue.stringArray(List.of(merges)));
        return this;
    }

    TinyVocab add(String text, float score, int type) {
        tokens.add(text);
        scores.add(score);
        types.add(type);
        return this;
    }

    TinyVocab normal(String text, float score) {
        return add(text, score, 1);
    }

    TinyVocab set(String key, GgufValue value) {
        extra.put(key, value);
        return this;
    }

    int id(String text) {
        return tokens.lastIndexOf(text);
    }

    GgufMetadata metadata() {
        Map<String, GgufValue> m = new LinkedHashMap<>(extra);
        m.put("tokenizer.ggml.tokens", GgufValue.stringArray(tokens));
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) s[i] = scores.get(i);
        m.put("tokenizer.ggml.scores", GgufValue.float32Array(s));
        m.put("tokenizer.ggml.token_type", GgufValue.int32Array(types.stream().mapToInt(Integer::intValue).toArray()));
        return GgufMetadata.of(m);
    }

    Tokenizer tokenizer() {
        return Tokenizer.fromGguf(metadata());
    }
}
