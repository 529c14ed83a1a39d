package io.tandem.model.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits input text at occurrences of special-token texts, llama.cpp style: the special tokens are tried one
 * after the other, longest text first, and each splits every plain-text fragment left by the previous ones
 * at all its (non-overlapping, leftmost) occurrences. Without {@code parseSpecial} only USER_DEFINED tokens
 * split (as in Hugging Face tokenizers: added tokens are always matched); CONTROL and UNKNOWN texts stay text.
 */
final class SpecialTokenSplitter {
    private SpecialTokenSplitter() {
    }

    static List<Fragment> split(Vocabulary vocab, String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (!text.isEmpty()) fragments.add(new Fragment.Text(text));
        for (int id : vocab.specialTokens()) {
            if (!parseSpecial && vocab.has(id, TokenAttr.CONTROL | TokenAttr.UNKNOWN)) continue;
            String special = vocab.text(id);
            List<Fragment> next = null;
            for (int i = 0; i < fragments.size(); i++) {
                Fragment f = fragments.get(i);
                if (f instanceof Fragment.Text(String t) && t.contains(special)) {
                    if (next == null) next = new ArrayList<>(fragments.subList(0, i));
                    splitAt(t, special, id, next);
                } else if (next != null) {
                    next.add(f);
                }
            }
            if (next != null) fragments = next;
        }
        return fragments;
    }

    private static void splitAt(String text, String special, int id, List<Fragment> out) {
        int from = 0;
        for (int at = text.indexOf(special); at >= 0; at = text.indexOf(special, from)) {
            if (at > from) out.add(new Fragment.Text(text.substring(from, at)));
            out.add(new Fragment.Special(id));
            from = at + special.length();
        }
        if (from < text.length()) out.add(new Fragment.Text(text.substring(from)));
    }
}
