package io.tandem.model.tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's {@code clean_spaces} detokenizing step (Hugging Face's clean_up_tokenization_spaces), three
 * passes over the text: (1) drop a space before {@code ? ! . ,}; (2) {@code " ' "} becomes {@code "'"};
 * (3) drop the space before {@code 's 'm 're 've}. {@link #clean} is the batch form; {@link Stream} gives the
 * same result for text that arrives in pieces, holding back at most a few characters after a space.
 */
final class SpaceCleaner {
    private SpaceCleaner() {
    }

    static byte[] clean(byte[] text) {
        return pass3(pass2(pass1(text)));
    }

    private static byte[] pass1(byte[] t) {
        byte[] buf = new byte[t.length];
        int n = 0;
        for (int i = 0; i < t.length; i++) {
            byte x = t[i];
            if (i > 0 && t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) n--;
            buf[n++] = x;
        }
        return Arrays.copyOf(buf, n);
    }

    private static byte[] pass2(byte[] t) {
        byte[] buf = new byte[t.length];
        int n = 0;
        boolean prevSkipped = false; // the previous space was swallowed by a match: it no longer counts
        for (int i = 0; i < t.length; i++) {
            byte x = t[i];
            boolean prevSpace = i > 0 && !prevSkipped && t[i - 1] == ' ';
            prevSkipped = false;
            if (x == '\'' && prevSpace && i + 1 < t.length && t[i + 1] == ' ') {
                n--;
                buf[n++] = x;
                i++; // swallow the following space
                prevSkipped = true;
                continue;
            }
            buf[n++] = x;
        }
        return Arrays.copyOf(buf, n);
    }

    private static byte[] pass3(byte[] t) {
        byte[] buf = new byte[t.length];
        int n = 0;
        for (int i = 0; i < t.length; i++) {
            byte x = t[i];
            if (i > 0 && t[i - 1] == ' ' && x == '\'' && i + 1 < t.length) {
                byte x1 = t[i + 1];
                boolean pair = i + 2 < t.length && t[i + 2] == 'e' && (x1 == 'r' || x1 == 'v');
                if (x1 == 's' || x1 == 'm' || pair) n--;
            }
            buf[n++] = x;
        }
        return Arrays.copyOf(buf, n);
    }

    /** Streaming form: {@code feed} returns what is final, {@code finish} the rest. Not thread-safe. */
    static final class Stream {
        private final Stage[] stages = {
                new Stage(List.of(" ?", " !", " .", " ,")),
                new Stage(List.of(" ' ")),
                new Stage(List.of(" 's", " 'm", " 're", " 've"))};

        String feed(String text) {
            for (Stage s : stages) text = s.feed(text);
            return text;
        }

        String finish() {
            String text = "";
            for (Stage s : stages) text = s.finish(s.feed(text));
            return text;
        }
    }

    /**
     * One pass: every pattern starts with a space which is dropped when the whole pattern follows (pass 2
     * also drops the final space). Text after a space is held while it can still become a pattern.
     */
    private static final class Stage {
        private final List<String> patterns;
        private final StringBuilder held = new StringBuilder();

        Stage(List<String> patterns) {
            this.patterns = patterns;
        }

        String feed(String text) {
            StringBuilder out = new StringBuilder(text.length());
            for (int i = 0; i < text.length(); i++) feed(text.charAt(i), out);
            return out.toString();
        }

        String finish(String alreadyFed) {
            String rest = alreadyFed + held;
            held.setLength(0);
            return rest;
        }

        private void feed(char c, StringBuilder out) {
            if (held.isEmpty()) {
                if (c == ' ') held.append(c);
                else out.append(c);
                return;
            }
            held.append(c);
            String h = held.toString();
            for (String p : patterns) {
                if (p.equals(h)) {
                    out.append(p.strip()); // " ?" -> "?", " ' " -> "'", " 's" -> "'s"
                    held.setLength(0);
                    return;
                }
            }
            for (String p : patterns) if (p.startsWith(h)) return;
            held.setLength(0);
            out.append(h.charAt(0));
            for (int i = 1; i < h.length(); i++) feed(h.charAt(i), out);
        }
    }
}
