package io.tandem.engine.sample;

/**
 * Partial selection of the best entries of a logits row without sorting it: a bounded min-heap
 * of the {@code k} best seen so far, O(n log k). "Better" means a larger value, ties to the
 * lower token id, so every selection is deterministic. Only entries above a floor (and never
 * NaN) are selected.
 */
final class TopK {
    private TopK() {}

    /**
     * Writes the best {@code k} (at most) of the candidates whose value is above {@code floor} to
     * {@code out}, best first, and returns how many. Candidates are {@code cand[0..n)}, or the ids
     * {@code 0..n-1} when {@code cand} is null. {@code out} must not be {@code cand}.
     */
    static int select(float[] x, int xOffset, int[] cand, int n, int k, float floor, int[] out) {
        int size = 0;
        float rootV = Float.NaN; // the worst kept entry, cached: most candidates lose to it at once
        int rootId = -1;
        for (int j = 0; j < n; j++) {
            int id = cand == null ? j : cand[j];
            float v = x[xOffset + id];
            if (!(v > floor)) continue; // also skips NaN
            if (size < k) {
                out[size] = id;
                siftUp(x, xOffset, out, size++);
            } else if (size > 0 && better(v, id, rootV, rootId)) {
                out[0] = id;
                siftDown(x, xOffset, out, size);
            } else {
                continue;
            }
            rootId = out[0];
            rootV = x[xOffset + rootId];
        }
        // Heap-sort in place: repeatedly move the worst to the end.
        for (int end = size - 1; end > 0; end--) {
            int worst = out[0];
            out[0] = out[end];
            out[end] = worst;
            siftDown(x, xOffset, out, end);
        }
        return size;
    }

    /** Index of the largest entry of {@code x[offset, offset + n)}, ties to the lowest; -1 if all are NaN. */
    static int argmax(float[] x, int offset, int n) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = x[offset + i];
            if (v > bestValue || (best < 0 && v == bestValue)) {
                best = i;
                bestValue = v;
            }
        }
        return best;
    }

    static boolean better(float v, int id, float w, int wid) {
        return v > w || (v == w && id < wid);
    }

    // Min-heap on "better": the root is the worst kept entry.
    private static void siftUp(float[] x, int off, int[] h, int i) {
        int id = h[i];
        float v = x[off + id];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            int pid = h[parent];
            if (!better(x[off + pid], pid, v, id)) break;
            h[i] = pid;
            i = parent;
        }
        h[i] = id;
    }

    private static void siftDown(float[] x, int off, int[] h, int size) {
        int i = 0, id = h[0];
        float v = x[off + id];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            int right = child + 1;
            if (right < size && better(x[off + h[child]], h[child], x[off + h[right]], h[right])) child = right;
            int cid = h[child];
            if (!better(v, id, x[off + cid], cid)) break;
            h[i] = cid;
            i = child;
        }
        h[i] = id;
    }
}
