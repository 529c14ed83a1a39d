package io.tandem.model.tokenizer;

import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * GPT-2 style byte-level BPE ({@code tokenizer.ggml.model = gpt2}): the text is split into words by the
 * pre-tokenizer, each word is spelled in GPT-2's byte alphabet, and adjacent symbols are merged by the rank of
 * their pair in {@code tokenizer.ggml.merges} (lowest rank first, ties leftmost). Word results are cached.
 */
final class BytePairTokenizer extends BaseTokenizer {
    private static final int CACHE_LIMIT = 50_000;
    private static final int CACHED_WORD_MAX_LENGTH = 64;

    private final PreTokenizer pre;
    /** Merge rank by the merge's text {@code "left right"}; symbols never contain a space. */
    private final Map<String, Integer> ranks;
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();

    BytePairTokenizer(Vocabulary vocab, PreTokenizer pre, List<String> merges) {
        super(vocab);
        this.pre = pre;
        this.ranks = java.util.HashMap.newHashMap(merges.size());
        for (int i = 0; i < merges.size(); i++) {
            String m = merges.get(i);
            if (m.indexOf(' ', 1) > 0) ranks.putIfAbsent(m, i); // the first of duplicate merges counts
        }
    }

    private record Bigram(int left, int right, int rank, int length) {
    }

    @Override
    void encodeText(String text, boolean startsSegment, IntList out) {
        for (String word : pre.split(text)) {
            int[] ids = wordCache.get(word);
            if (ids == null) {
                ids = encodeWord(ByteLevel.encode(word));
                if (word.length() <= CACHED_WORD_MAX_LENGTH) {
                    if (wordCache.size() >= CACHE_LIMIT) wordCache.clear(); // bounded memory whatever the input
                    wordCache.put(word, ids);
                }
            }
            out.addAll(ids);
        }
    }

    /** BPE on one word in the byte alphabet (every char is one symbol to start with). */
    private int[] encodeWord(String w) {
        IntList out = new IntList();
        if (pre.ignoreMerges()) {
            int id = vocab.id(w);
            if (id >= 0) return new int[] {id};
        }
        int n = w.length();
        int[] start = new int[n], end = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = i;
            end[i] = i + 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n), (a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) offer(w, i - 1, i, start, end, queue);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left, r = b.right;
            if (end[l] == start[l] || end[r] == start[r] || end[r] - start[l] != b.length || next[l] != r) continue;
            end[l] = end[r];
            start[r] = end[r];
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            offer(w, prev[l], l, start, end, queue);
            offer(w, l, next[l], start, end, queue);
        }
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
            String piece = w.substring(start[i], end[i]);
            int id = vocab.id(piece);
            if (id >= 0) {
                out.add(id);
            } else {
                // no token for the symbol: llama.cpp tries its single bytes and drops what it cannot find
                for (char c : piece.toCharArray()) {
                    int single = c < 0x80 ? vocab.id(String.valueOf(c)) : -1;
                    if (single >= 0) out.add(single);
                }
            }
        }
        return out.toArray();
    }

    private void offer(String w, int left, int right, int[] start, int[] end, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) return;
        String key = w.substring(start[left], end[left]) + ' ' + w.substring(start[right], end[right]);
        Integer rank = ranks.get(key);
        if (rank != null) queue.add(new Bigram(left, right, rank, end[right] - start[left]));
    }

    @Override
    byte[] plainPiece(int id, int attr) {
        // only NORMAL tokens are byte-level text; byte, unused and undefined tokens print nothing here
        return (attr & TokenAttr.NORMAL) != 0 ? ByteLevel.decode(vocab.text(id)) : EMPTY;
    }
}
