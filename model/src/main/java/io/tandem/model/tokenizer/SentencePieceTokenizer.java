package io.tandem.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE ({@code tokenizer.ggml.model = llama}) as llama.cpp runs it: spaces become
 * {@code ▁}, a space is prefixed to every text segment (if {@code add_space_prefix}), then adjacent symbols
 * are merged greedily, the pair whose merged text is the highest-scoring token first (ties: leftmost).
 * Characters no token covers fall back to byte tokens {@code <0xXX>}.
 */
final class SentencePieceTokenizer extends BaseTokenizer {
    private static final char SPACE_MARK = '\u2581';
    private final int[] byteTokens = new int[256];

    SentencePieceTokenizer(Vocabulary vocab) {
        super(vocab);
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) id = vocab.id(String.valueOf((char) b)); // a vocabulary without byte tokens
            byteTokens[b] = id >= 0 ? id : vocab.unk;
        }
    }

    /** A candidate merge of symbols {@code left} and its right neighbour; {@code length} detects stale entries. */
    private record Bigram(int left, int right, float score, int length) {
    }

    @Override
    void encodeText(String text, boolean startsSegment, IntList out) {
        String s = (startsSegment && vocab.addSpacePrefix ? " " + text : text).replace(' ', SPACE_MARK);
        int n = s.codePointCount(0, s.length());
        // symbol i covers chars [start[i], end[i]); merged-away symbols have end == start
        int[] start = new int[n], end = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, at = 0; i < n; i++) {
            start[i] = at;
            at += Character.charCount(s.codePointAt(at));
            end[i] = at;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n), (a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) offer(s, i - 1, i, start, end, queue);

        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left, r = b.right;
            if (end[l] == start[l] || end[r] == start[r] || end[r] - start[l] != b.length
                    || next[l] != r) continue; // one side was merged elsewhere since the pair was queued
            end[l] = end[r];
            start[r] = end[r]; // r is gone
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            offer(s, prev[l], l, start, end, queue);
            offer(s, l, next[l], start, end, queue);
        }

        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
            String piece = s.substring(start[i], end[i]);
            int id = vocab.id(piece);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                    int t = byteTokens[b & 0xFF];
                    if (t < 0) throw new TokenizerException("no byte token <0x" + String.format("%02X", b & 0xFF)
                            + "> and no unknown token to encode " + piece);
                    out.add(t);
                }
            }
        }
    }

    private void offer(String s, int left, int right, int[] start, int[] end, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) return;
        int id = vocab.id(s.substring(start[left], end[right]));
        if (id >= 0) queue.add(new Bigram(left, right, vocab.score(id), end[right] - start[left]));
    }

    @Override
    byte[] plainPiece(int id, int attr) {
        if ((attr & TokenAttr.NORMAL) != 0) {
            return vocab.text(id).replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
        }
        if ((attr & TokenAttr.BYTE) != 0) return new byte[] {(byte) byteValue(vocab.text(id))};
        return EMPTY; // unused and undefined tokens print nothing
    }

    /** The byte of a {@code <0xXX>} token. */
    private static int byteValue(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            return Integer.parseInt(text, 3, 5, 16);
        }
        throw new TokenizerException("byte token '" + text + "' is not of the form <0xXX>");
    }
}
