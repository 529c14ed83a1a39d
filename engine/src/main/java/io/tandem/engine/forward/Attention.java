package io.tandem.engine.forward;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;

import java.lang.foreign.MemorySegment;

/**
 * Causal grouped-query attention over the paged KV cache. Work is split into tasks of (span, KV head, chunk of query
 * tokens); a task finds where its KV head's positions live through the span's block table, then for each query token
 * and each query head of the group computes {@code softmax(q·K / sqrt(d)) V} over positions {@code 0 .. pos},
 * reading K and V in place in the cache's arenas. Query head {@code j} reads KV head {@code j / (heads / kvHeads)}.
 * A query's result depends only on its own span's cache contents, not on the chunk or batch it is computed in.
 * Public for the attention benchmark (AttentionBenchmarks); the engine uses it through {@link Transformer}.
 */
public final class Attention {
    private final Kernels kernels;
    private final int heads, kvHeads, headDim, group;
    private final float scale;
    private final Scratch[] scratch;

    /** One worker's buffers, grown to the longest context seen. */
    private static final class Scratch {
        float[] scores = new float[0];
        long[] offsets = new long[0];
        // F16 caches: the task's keys and values widened once, shared by all its queries; linear[p] = p * headDim * 4
        float[] keys = new float[0], values = new float[0];
        long[] linear = new long[0];
    }

    public Attention(Kernels kernels, int heads, int kvHeads, int headDim, int threads) {
        this.kernels = kernels;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.group = heads / kvHeads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.scratch = new Scratch[threads];
        for (int i = 0; i < threads; i++) scratch[i] = new Scratch();
    }

    /**
     * {@code out[t * heads * headDim + j * headDim ..]} = attention output of query head {@code j} of batch token
     * {@code t}, for every token of {@code batch}, whose queries are in {@code q} (same layout) and whose keys and
     * values are already in {@code cache} for layer {@code layer}.
     */
    public void run(ComputePool pool, Batch batch, KvArenas cache, int layer, float[] q, float[] out, int chunk) {
        int spans = batch.size();
        int[] firstTask = new int[spans + 1];
        int[] firstToken = new int[spans + 1];
        for (int s = 0; s < spans; s++) {
            int len = batch.spans().get(s).length();
            firstTask[s + 1] = firstTask[s] + kvHeads * ((len + chunk - 1) / chunk);
            firstToken[s + 1] = firstToken[s] + len;
        }
        pool.run(firstTask[spans], (task, worker) -> {
            int s = 0;
            while (task >= firstTask[s + 1]) s++;
            SequenceSpan span = batch.spans().get(s);
            int local = task - firstTask[s];
            int g = local % kvHeads;
            int from = (local / kvHeads) * chunk;
            int to = Math.min(span.length(), from + chunk);
            headTask(span, firstToken[s], g, from, to, cache, layer, q, out, worker);
        });
    }

    private void headTask(SequenceSpan span, int tokenBase, int g, int from, int to, KvArenas cache, int layer,
                          float[] q, float[] out, int worker) {
        int count = span.startPosition() + to; // positions 0 .. last query position
        Scratch sc = scratch[worker];
        if (sc.offsets.length < count) {
            int cap = Math.max(count, 1024);
            sc.offsets = new long[cap];
            sc.scores = new float[group * cap];
        }
        int cap = sc.offsets.length; // stride of the group's score rows
        long[] off = sc.offsets;
        cache.headOffsets(span.blockTable(), g, count, off);
        MemorySegment keys = cache.keys(layer), values = cache.values(layer);
        boolean f16 = cache.layout().type() == KvDataType.F16;
        if (f16) {
            // widen once per task instead of once per query head and query
            if (sc.linear.length < count) {
                int n = Math.max(count, 1024);
                sc.linear = new long[n];
                for (int p = 0; p < n; p++) sc.linear[p] = (long) p * headDim * Float.BYTES;
                sc.keys = new float[n * headDim];
                sc.values = new float[n * headDim];
            }
            kernels.decodeRows(keys, off, count, headDim, true, sc.keys);
            kernels.decodeRows(values, off, count, headDim, true, sc.values);
            keys = MemorySegment.ofArray(sc.keys);
            values = MemorySegment.ofArray(sc.values);
            off = sc.linear;
            f16 = false;
        }
        float[] w = sc.scores;
        int stride = heads * headDim;
        for (int i = from; i < to; i++) {
            int n = span.startPosition() + i + 1; // positions this query attends to
            int qo = (tokenBase + i) * stride + g * group * headDim;
            // scores land at w[0 ..]: the last head first, each moved to its own row, head 0 staying in row 0
            for (int h = group - 1; h >= 0; h--) {
                kernels.attentionScores(q, qo + h * headDim, keys, off, n, headDim, f16, scale, w);
                if (h > 0) System.arraycopy(w, 0, w, h * cap, n);
                kernels.softmax(w, h * cap, n);
            }
            kernels.attentionValues(w, 0, cap, group, values, off, n, headDim, f16, out, qo);
        }
    }
}
