package io.tandem.model.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE, by {@code tokenizer.ggml.pre}. Each pattern in turn splits
 * every piece left by the previous one into its matches and the gaps between them (gaps are kept), as
 * llama.cpp's regex splitter does. Also carries the pre-tokenizer dependent vocabulary settings.
 *
 * <p>Character classes follow llama.cpp: {@code \s} is Unicode White_Space (so NBSP and U+3000 are spaces,
 * U+200B is not), {@code \p{L}} / {@code \p{N}} / {@code \p{P}} are Unicode general categories.
 *
 * @param ignoreMerges a word that is a token as a whole is emitted as that token without merging (Llama 3)
 * @param addBos       default of {@code add_bos_token}
 * @param cleanSpaces  detokenizing removes spaces before punctuation and contractions
 *                     (Hugging Face's clean_up_tokenization_spaces)
 */
record PreTokenizer(String name, List<Pattern> patterns, boolean ignoreMerges, boolean addBos, boolean cleanSpaces) {
    /** Members of Unicode White_Space, for use inside a character class. */
    private static final String WS = "\\t\\n\\x0B\\f\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
    private static final String S = "[" + WS + "]";
    private static final String NOT_S = "[^" + WS + "]";
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String OTHER = "[^" + WS + "\\p{L}\\p{N}]";

    /** Qwen2's pattern: single digits. */
    static final String QWEN2 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?" + OTHER + "+[\\r\\n]*|"
            + S + "*[\\r\\n]+|" + S + "+(?!" + NOT_S + ")|" + S + "+";
    /** Llama 3's pattern: digits in groups of up to three. */
    static final String LLAMA3 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?" + OTHER + "+[\\r\\n]*|"
            + S + "*[\\r\\n]+|" + S + "+(?!" + NOT_S + ")|" + S + "+";
    /** GPT-2's pattern (lower-case contractions only). */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?" + OTHER + "+|" + S + "+(?!" + NOT_S
            + ")|" + S + "+";

    static PreTokenizer forName(String name) {
        return switch (name) {
            case "qwen2", "deepseek-r1-qwen" -> new PreTokenizer(name, compile(QWEN2), false, false, false);
            case "llama-bpe", "llama3", "llama-v3" -> new PreTokenizer(name, compile(LLAMA3), true, true, true);
            case "gpt-2" -> new PreTokenizer(name, compile(GPT2), false, false, true);
            // llama.cpp's pre-tokenizer for BPE vocabularies that name none: punctuation runs first, then
            // GPT-2-like words, then digits in groups of three
            case "default" -> new PreTokenizer(name, compile("[\\p{P}\\$\\+<=>\\^~\\|]+",
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?" + OTHER + "+|" + S + "+(?!" + NOT_S + ")",
                    "\\p{N}+", "[0-9][0-9][0-9]"), false, false, true);
            default -> throw new TokenizerException("unsupported tokenizer.ggml.pre '" + name
                    + "' for a gpt2 (byte-level BPE) vocabulary; supported: qwen2, llama-bpe, gpt-2, default");
        };
    }

    private static List<Pattern> compile(String... regexes) {
        List<Pattern> list = new ArrayList<>();
        for (String r : regexes) list.add(Pattern.compile(r));
        return List.copyOf(list);
    }

    List<String> split(String text) {
        List<String> pieces = List.of(text);
        for (Pattern p : patterns) {
            List<String> next = new ArrayList<>();
            for (String piece : pieces) {
                Matcher m = p.matcher(piece);
                int at = 0;
                while (m.find()) {
                    if (m.start() > at) next.add(piece.substring(at, m.start()));
                    if (m.end() > m.start()) next.add(m.group());
                    at = m.end();
                }
                if (at < piece.length()) next.add(piece.substring(at));
            }
            pieces = next;
        }
        return pieces;
    }
}
