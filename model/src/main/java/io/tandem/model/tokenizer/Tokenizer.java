package io.tandem.model.tokenizer;

import io.tandem.model.gguf.GgufMetadata;

import java.nio.charset.StandardCharsets;

/**
 * Text ↔ token ids for a GGUF vocabulary, with llama.cpp's semantics (its tokenizer is the reference the
 * goldens were made with). Two implementations: SentencePiece-style BPE ({@code tokenizer.ggml.model = llama})
 * and GPT-2 byte-level BPE ({@code gpt2}, pre-tokenizers {@code qwen2}, {@code llama-bpe}, {@code gpt-2},
 * {@code default}). Implementations are immutable and thread-safe.
 */
public interface Tokenizer {

    /**
     * The tokenizer described by the {@code tokenizer.ggml.*} keys.
     *
     * @throws TokenizerException for an unsupported tokenizer model or pre-tokenizer (the message names it)
     *                            or inconsistent vocabulary arrays
     */
    static Tokenizer fromGguf(GgufMetadata metadata) {
        return Tokenizers.fromGguf(metadata);
    }

    /**
     * Token ids of {@code text} (llama_tokenize). {@code addSpecial} adds BOS / EOS where the vocabulary asks
     * for them ({@code add_bos_token} / {@code add_eos_token}); {@code parseSpecial} turns the texts of control
     * tokens (e.g. {@code <|im_start|>}, {@code </s>}) into those tokens instead of spelling them out.
     * User-defined tokens (e.g. {@code <think>}) are matched either way.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * The bytes of one token (llama_token_to_piece with lstrip 0): SentencePiece {@code ▁} becomes a space,
     * byte tokens {@code <0xXX>} become that byte, byte-level BPE text is mapped back to bytes. Control and
     * unknown tokens give their text only when {@code special}; unused tokens give nothing. A piece can be an
     * incomplete UTF-8 sequence.
     */
    byte[] tokenToPiece(int id, boolean special);

    /**
     * Bytes of a token sequence (llama_detokenize): the pieces concatenated; with {@code removeSpecial} a
     * leading BOS (and a trailing EOS) that the vocabulary adds itself is dropped; control tokens are printed
     * only with {@code unparseSpecial}. For SentencePiece vocabularies with a space prefix the leading space
     * of the first piece is stripped, unless a BOS was dropped before it.
     */
    byte[] decodeBytes(int[] ids, boolean removeSpecial, boolean unparseSpecial);

    /** {@link #decodeBytes} as a string; invalid UTF-8 becomes U+FFFD. */
    default String decode(int[] ids, boolean removeSpecial, boolean unparseSpecial) {
        return new String(decodeBytes(ids, removeSpecial, unparseSpecial), StandardCharsets.UTF_8);
    }

    int vocabSize();

    /** BOS token id, or -1 when the vocabulary has none. */
    int bosId();

    /** EOS token id, or -1 when the vocabulary has none. */
    int eosId();

    /** Tokens that end generation, ascending (EOS plus end-of-turn tokens found by their text, as llama.cpp). */
    int[] endOfGenerationIds();

    boolean isEndOfGeneration(int id);

    /**
     * Control, unused and unknown tokens: tokens that are not text. A simulated engine never samples them and
     * they print nothing in streamed output. (Promoted tokens such as Qwen's {@code </s>} count as control.)
     */
    boolean isControl(int id);

    /** The raw vocabulary entry of a token (e.g. {@code ▁Hello}, {@code ĠHello}, {@code <0x0A>}). */
    String tokenText(int id);

    /**
     * A streaming decoder for generated tokens: the text continues earlier text, so no leading space is
     * stripped. Special tokens print nothing (as {@code decode(ids, true, false)}).
     */
    default IncrementalDetokenizer newDetokenizer() {
        return newDetokenizer(false);
    }

    /**
     * A streaming decoder. With {@code stripLeadingSpace} the concatenated output equals
     * {@code decode(ids, true, false)} for a sequence that starts a text (SentencePiece space prefix stripped
     * unless the first token is BOS); without it every piece is kept as is.
     */
    IncrementalDetokenizer newDetokenizer(boolean stripLeadingSpace);
}
