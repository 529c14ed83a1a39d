package io.tandem.model.tokenizer;

import io.tandem.model.gguf.GgufMetadata;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A token table read from GGUF metadata, with the adjustments llama.cpp makes when it loads one: token types
 * become attribute flags, tokens whose text marks an end of turn / fill-in-the-middle role are promoted to
 * CONTROL, the end-of-generation set is derived from those texts and the special ids, and the special tokens
 * (CONTROL, USER_DEFINED, UNKNOWN) are listed longest first for splitting input text. Immutable.
 */
final class Vocabulary {
    static final String KEY_PREFIX = "tokenizer.ggml.";

    /** Load-time defaults that depend on the tokenizer model and pre-tokenizer; GGUF keys override them. */
    record Defaults(int bos, int eos, int unk, boolean addBos, boolean addSpacePrefix, boolean cleanSpaces) {
        static final Defaults SPM = new Defaults(1, 2, 0, true, true, false);

        static Defaults bpe(boolean addBos, boolean cleanSpaces) {
            return new Defaults(-1, -1, -1, addBos, false, cleanSpaces);
        }
    }

    // Texts llama.cpp recognises whatever the stored token type (llama-vocab.cpp, "auto-detect special
    // tokens by text"). Each role takes the first token found; the token becomes CONTROL.
    private static final List<List<String>> ROLE_TEXTS = List.of(
            List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                    "<EOT>", "_<EOT>", "[EOT]", "<end_of_utterance>"),                                     // EOT
            List.of("<|eom_id|>"),                                                                        // EOM
            List.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<PRE>", "<|code_prefix|>"),        // FIM_PRE
            List.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<SUF>", "<|code_suffix|>"),        // FIM_SUF
            List.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<MID>", "<|code_middle|>"),        // FIM_MID
            List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>"),                                    // FIM_PAD
            List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"),               // FIM_REP
            List.of("<|file_sep|>"));                                                                     // FIM_SEP
    private static final int EOT = 0, EOM = 1, FIM_PAD = 5, FIM_REP = 6, FIM_SEP = 7;
    private static final List<List<String>> ROLE_KEYS = List.of(
            List.of("eot_token_id"), List.of("eom_token_id"),
            List.of("fim_pre_token_id", "prefix_token_id"), List.of("fim_suf_token_id", "suffix_token_id"),
            List.of("fim_mid_token_id", "middle_token_id"), List.of("fim_pad_token_id"),
            List.of("fim_rep_token_id"), List.of("fim_sep_token_id"));

    /** Token texts that end generation (llama.cpp's list); such tokens become CONTROL too. */
    private static final Set<String> EOG_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>", "<|endoftext|>",
            "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>");

    private final String[] texts;
    private final float[] scores;
    private final int[] attrs;
    private final Map<String, Integer> ids;
    final int bos, eos, unk;
    final boolean addBos, addEos, addSpacePrefix, cleanSpaces;
    private final int[] eog;
    private final int[] specials;

    private Vocabulary(GgufMetadata md, Defaults d) {
        List<String> tokens = md.getStringArray(KEY_PREFIX + "tokens");
        int n = tokens.size();
        if (n == 0) throw new TokenizerException("tokenizer.ggml.tokens is empty");
        scores = md.contains(KEY_PREFIX + "scores") ? md.getFloatArray(KEY_PREFIX + "scores") : new float[n];
        int[] types = md.contains(KEY_PREFIX + "token_type") ? md.getIntArray(KEY_PREFIX + "token_type") : null;
        if (scores.length < n) throw lengthMismatch("scores", scores.length, n);
        if (types != null && types.length < n) throw lengthMismatch("token_type", types.length, n);

        texts = new String[n];
        attrs = new int[n];
        ids = HashMap.newHashMap(n);
        for (int i = 0; i < n; i++) {
            String t = tokens.get(i);
            if (t.isEmpty()) t = "[EMPTY_" + i + "]"; // as llama.cpp: an empty text could never be matched
            texts[i] = t;
            ids.put(t, i); // a later duplicate wins, as in llama.cpp's token_to_id
            attrs[i] = types == null ? TokenAttr.NORMAL : TokenAttr.fromType(types[i]);
        }

        bos = specialId(md, "bos_token_id", d.bos());
        eos = specialId(md, "eos_token_id", d.eos());
        unk = specialId(md, "unknown_token_id", d.unk());
        addBos = md.getBool(KEY_PREFIX + "add_bos_token", d.addBos());
        addEos = md.getBool(KEY_PREFIX + "add_eos_token", false);
        addSpacePrefix = md.getBool(KEY_PREFIX + "add_space_prefix", d.addSpacePrefix());
        cleanSpaces = d.cleanSpaces();

        int[] roles = new int[ROLE_TEXTS.size()];
        for (int r = 0; r < roles.length; r++) {
            roles[r] = -1;
            for (String key : ROLE_KEYS.get(r)) roles[r] = specialId(md, key, roles[r]);
        }
        detectRolesByText(roles);
        markUnusedControls();
        eog = endOfGeneration(roles);
        specials = specialTokensLongestFirst();
    }

    static Vocabulary fromGguf(GgufMetadata md, Defaults defaults) {
        return new Vocabulary(md, defaults);
    }

    private static TokenizerException lengthMismatch(String what, int got, int n) {
        return new TokenizerException("tokenizer.ggml." + what + " has " + got + " entries, fewer than the "
                + n + " tokens");
    }

    private int specialId(GgufMetadata md, String key, int def) {
        long v = md.getLong(KEY_PREFIX + key, def);
        return v >= 0 && v < texts.length ? (int) v : def; // llama.cpp ignores out-of-range ids
    }

    /** Is this token the one llama.cpp's token_to_id map holds for its text (not shadowed by a duplicate)? */
    private boolean isCanonical(int id) {
        return ids.get(texts[id]) == id;
    }

    private void detectRolesByText(int[] roles) {
        for (int id = 0; id < texts.length; id++) {
            if (!isCanonical(id)) continue;
            for (int r = 0; r < roles.length; r++) {
                if (roles[r] < 0 && ROLE_TEXTS.get(r).contains(texts[id])) {
                    roles[r] = id;
                    attrs[id] |= TokenAttr.CONTROL;
                }
            }
        }
    }

    /** Control tokens named like "<unused42>" are unused (Gemma-style reserved slots). */
    private void markUnusedControls() {
        for (int id = 0; id < texts.length; id++) {
            if ((attrs[id] & TokenAttr.CONTROL) != 0 && texts[id].contains("unused")) attrs[id] |= TokenAttr.UNUSED;
        }
    }

    private int[] endOfGeneration(int[] roles) {
        TreeSet<Integer> set = new TreeSet<>();
        for (int r : new int[] {FIM_PAD, FIM_REP, FIM_SEP}) if (roles[r] >= 0) set.add(roles[r]);
        for (int id = 0; id < texts.length; id++) {
            if (isCanonical(id) && EOG_TEXTS.contains(texts[id])) {
                set.add(id);
                attrs[id] |= TokenAttr.CONTROL;
            }
        }
        for (int id : new int[] {eos, roles[EOT], roles[EOM]}) if (id >= 0) set.add(id);
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    private int[] specialTokensLongestFirst() {
        List<Integer> list = new ArrayList<>();
        int mask = TokenAttr.CONTROL | TokenAttr.USER_DEFINED | TokenAttr.UNKNOWN;
        for (int id = 0; id < texts.length; id++) if ((attrs[id] & mask) != 0) list.add(id);
        list.sort(Comparator.<Integer>comparingInt(id -> -texts[id].length()).thenComparingInt(id -> id));
        return list.stream().mapToInt(Integer::intValue).toArray();
    }

    int size() {
        return texts.length;
    }

    String text(int id) {
        return texts[check(id)];
    }

    float score(int id) {
        return scores[id];
    }

    /** The id of the token with exactly this text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    boolean has(int id, int attrMask) {
        return (attrs[check(id)] & attrMask) != 0;
    }

    int attr(int id) {
        return attrs[check(id)];
    }

    int[] endOfGeneration() {
        return eog.clone();
    }

    boolean isEndOfGeneration(int id) {
        return Arrays.binarySearch(eog, id) >= 0;
    }

    /** Special tokens for splitting input, longest text first: CONTROL, USER_DEFINED and UNKNOWN tokens. */
    int[] specialTokens() {
        return specials;
    }

    int check(int id) {
        if (id < 0 || id >= texts.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (texts.length - 1) + ")");
        }
        return id;
    }
}
