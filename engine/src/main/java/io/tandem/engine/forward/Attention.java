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
    private final float[][] scores;
    private final long[][] offsets;

    public Attention(Kernels kernels, int heads, int kvHeads, int headDim, int threads) {
        this.kernels = kernels;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.group = heads / kvHeads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.scores = new float[threads][];
        this.offsets = new long[threads][];
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
        if (scores[worker] == null || scores[worker].length < count) {
            scores[worker] = new float[Math.max(count, 1024)];
            offsets[worker] = new long[Math.max(count, 1024)];
        }
        float[] sc = scores[worker];
        long[] off = offsets[worker];
        cache.headOffsets(span.blockTable(), g, count, off);
        MemorySegment keys = cache.keys(layer), values = cache.values(layer);
        boolean f16 = cache.layout().type() == KvDataType.F16;
        int stride = heads * headDim;
        for (int i = from; i < to; i++) {
            int pos = span.startPosition() + i;
            int t = tokenBase + i;
            for (int j = g * group; j < (g + 1) * group; j++) {
                int qo = t * stride + j * headDim;
                kernels.attentionScores(q, qo, keys, off, pos + 1, headDim, f16, scale, sc);
                kernels.softmax(sc, 0, pos + 1);
                kernels.attentionValues(sc, values, off, pos + 1, headDim, f16, out, qo);
            }
        }
    }
}
