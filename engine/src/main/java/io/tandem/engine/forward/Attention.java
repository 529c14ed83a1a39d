package io.tandem.engine.forward;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Causal grouped-query attention over the paged KV cache. Work is split into tasks of (span, KV head, chunk of query
 * tokens); a task finds where its KV head's positions live through the span's block table, then for each query token
 * and each query head of the group computes {@code softmax(q·K / sqrt(d)) V} over positions {@code 0 .. pos},
 * reading K and V in place in the cache's arenas (keys through their blocks, values through their rows: see
 * {@code KvLayout}). Query head {@code j} reads KV head {@code j / (heads / kvHeads)}. A query's result depends only
 * on its own span's cache contents, not on the chunk or batch it is computed in.
 *
 * <p>For a span with many new tokens, when the kernels can, each KV head's keys and values are first staged once per
 * call into arrays: keys ({@link Kernels#stageKeys}) in blocks of 16 as the arenas hold them, where one key load
 * serves several query rows ({@link Kernels#attentionScoresStaged}), values in row order read at a fixed stride
 * ({@link Kernels#attentionValuesStaged}); the same bits as reading them in place.
 * Public for the attention benchmark (AttentionBenchmarks); the engine uses it through {@link Transformer}.
 */
public final class Attention {
    /** Spans with at least this many new tokens are staged; decode steps read the cache in place. */
    private static final int STAGE_MIN_TOKENS = 16;
    /** At most this many staged floats per call (64 MiB); spans beyond it read the cache in place. */
    private static final long STAGE_MAX_FLOATS = 16L << 20;
    /** Query rows (token x query head) scored together by a staged task: bounds its score rows. */
    private static final int STAGED_ROWS = 24;

    private final Kernels kernels;
    private final int heads, kvHeads, headDim, group;
    private final float scale;
    private final Scratch[] scratch;
    /** The staged keys and values of the current call (see {@link #stage}). */
    private float[] staged = new float[0];

    /** One worker's buffers, grown to the longest context seen. */
    private static final class Scratch {
        float[] scores = new float[0];
        long[] offsets = new long[0];
        /** Where each block's keys of the task's KV head are (KvArenas.keyBlockOffsets). */
        long[] keyBlocks = new long[0];
        // F16 caches: the task's keys and values widened once, shared by all its queries, in the arenas' layouts:
        // keys block after block (linearBlocks[b] = b * headDim * blockSize * 4), values row after row (linear[p])
        float[] keys = new float[0], values = new float[0];
        long[] linear = new long[0], linearBlocks = new long[0];
        // a staged tile's query rows: where each query is in q, how many positions it attends to
        final int[] rowQuery, rowCount;

        Scratch(int rows) {
            rowQuery = new int[rows];
            rowCount = new int[rows];
        }
    }

    public Attention(Kernels kernels, int heads, int kvHeads, int headDim, int threads) {
        this.kernels = kernels;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.group = heads / kvHeads;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.scratch = new Scratch[threads];
        for (int i = 0; i < threads; i++) scratch[i] = new Scratch(Math.max(group, STAGED_ROWS));
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
        int[] stagedAt = stage(pool, batch, cache, layer);
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
            headTask(span, firstToken[s], g, from, to, cache, layer, q, out, worker,
                    stagedAt == null ? -1 : stagedAt[2 * (s * kvHeads + g)]);
        });
    }

    /**
     * Stages the keys and values of every KV head of the spans with at least {@link #STAGE_MIN_TOKENS} new tokens;
     * returns where span {@code s}'s head {@code g} starts in {@link #staged}: its keys at
     * {@code [2 * (s * kvHeads + g)]} (-1: not staged), its values at the next index; null when nothing is staged.
     */
    private int[] stage(ComputePool pool, Batch batch, KvArenas cache, int layer) {
        if (!kernels.stagesKeys(headDim)) return null;
        int spans = batch.size();
        int[] at = new int[2 * spans * kvHeads];
        Arrays.fill(at, -1);
        int[] todo = new int[spans];
        int n = 0;
        long total = 0;
        for (int s = 0; s < spans; s++) {
            SequenceSpan span = batch.spans().get(s);
            long size = (long) blocks(span.startPosition() + span.length()) * Kernels.STAGED_BLOCK * headDim;
            if (span.length() < STAGE_MIN_TOKENS || total + 2 * kvHeads * size > STAGE_MAX_FLOATS) continue;
            for (int g = 0; g < kvHeads; g++) {
                at[2 * (s * kvHeads + g)] = (int) (total + 2 * g * size);
                at[2 * (s * kvHeads + g) + 1] = (int) (total + (2 * g + 1) * size);
            }
            total += 2 * kvHeads * size;
            todo[n++] = s;
        }
        if (n == 0) return null;
        if (staged.length < total) staged = new float[(int) total];
        float[] dst = staged;
        boolean f16 = cache.layout().type() == KvDataType.F16;
        int blockSize = cache.layout().blockSize();
        pool.run(n * kvHeads, (task, worker) -> {
            int s = todo[task / kvHeads], g = task % kvHeads;
            SequenceSpan span = batch.spans().get(s);
            int count = span.startPosition() + span.length();
            Scratch sc = scratch[worker];
            if (sc.offsets.length < count) grow(sc, count);
            cache.valueOffsets(span.blockTable(), g, count, sc.offsets);
            cache.keyBlockOffsets(span.blockTable(), g, count, sc.keyBlocks);
            int i = 2 * (s * kvHeads + g);
            kernels.stageKeys(cache.keys(layer), sc.keyBlocks, blockSize, count, headDim, f16, dst, at[i]);
            kernels.decodeRows(cache.values(layer), sc.offsets, count, headDim, f16, dst, at[i + 1]);
        });
        return at;
    }

    private static int blocks(int count) {
        return (count + Kernels.STAGED_BLOCK - 1) / Kernels.STAGED_BLOCK;
    }

    /** Room for {@code count} positions; score rows a whole number of staged blocks long. */
    private void grow(Scratch sc, int count) {
        int cap = blocks(Math.max(count, 1024)) * Kernels.STAGED_BLOCK;
        sc.offsets = new long[cap];
        sc.keyBlocks = new long[cap]; // a block holds at least one position
        sc.scores = new float[Math.max(group, STAGED_ROWS) * cap];
    }

    private void headTask(SequenceSpan span, int tokenBase, int g, int from, int to, KvArenas cache, int layer,
                          float[] q, float[] out, int worker, int stagedAt) {
        int count = span.startPosition() + to; // positions 0 .. last query position
        Scratch sc = scratch[worker];
        if (sc.offsets.length < count) grow(sc, count);
        int cap = sc.offsets.length; // stride of the group's score rows
        if (stagedAt >= 0) {
            stagedQueries(span, tokenBase, g, from, to, stagedAt, q, out, sc, cap);
            return;
        }
        long[] off = sc.offsets, blocks = sc.keyBlocks;
        cache.valueOffsets(span.blockTable(), g, count, off);
        cache.keyBlockOffsets(span.blockTable(), g, count, blocks);
        MemorySegment keys = cache.keys(layer), values = cache.values(layer);
        boolean f16 = cache.layout().type() == KvDataType.F16;
        int blockSize = cache.layout().blockSize();
        if (f16 && !kernels.readsF16InPlace()) {
            // widen once per task instead of once per query head and query
            int nb = cache.layout().blocksFor(count), blockFloats = headDim * blockSize;
            if (sc.linear.length < count || sc.linearBlocks.length < nb) {
                int n = Math.max(count, 1024), m = Math.max(nb, cache.layout().blocksFor(n));
                sc.linear = new long[n];
                for (int p = 0; p < n; p++) sc.linear[p] = (long) p * headDim * Float.BYTES;
                sc.linearBlocks = new long[m];
                for (int b = 0; b < m; b++) sc.linearBlocks[b] = (long) b * blockFloats * Float.BYTES;
                sc.keys = new float[m * blockFloats];
                sc.values = new float[n * headDim];
            }
            kernels.decodeRows(keys, blocks, nb, blockFloats, true, sc.keys); // a block's keys as one row
            kernels.decodeRows(values, off, count, headDim, true, sc.values);
            keys = MemorySegment.ofArray(sc.keys);
            values = MemorySegment.ofArray(sc.values);
            off = sc.linear;
            blocks = sc.linearBlocks;
            f16 = false;
        }
        float[] w = sc.scores;
        int stride = heads * headDim;
        for (int i = from; i < to; i++) {
            int n = span.startPosition() + i + 1; // positions this query attends to
            int qo = (tokenBase + i) * stride + g * group * headDim;
            kernels.groupAttentionScores(q, qo, group, keys, blocks, blockSize, n, headDim, f16, scale, w, cap);
            for (int h = 0; h < group; h++) kernels.softmax(w, h * cap, n);
            kernels.attentionValues(w, 0, cap, group, values, off, n, headDim, f16, out, qo);
        }
    }

    /**
     * Queries {@code [from, to)} of a span whose keys are staged: scores of up to {@link #STAGED_ROWS} query rows
     * (token x query head of the group) at a time, then per token the softmax and the weighted sums of the group.
     */
    private void stagedQueries(SequenceSpan span, int tokenBase, int g, int from, int to, int stagedAt, float[] q,
                               float[] out, Scratch sc, int cap) {
        int valuesAt = stagedAt + blocks(span.startPosition() + span.length()) * Kernels.STAGED_BLOCK * headDim;
        float[] w = sc.scores;
        int stride = heads * headDim;
        int perTile = Math.max(1, STAGED_ROWS / group);
        for (int t0 = from; t0 < to; t0 += perTile) {
            int t1 = Math.min(to, t0 + perTile);
            int rows = (t1 - t0) * group;
            for (int r = 0; r < rows; r++) {
                int i = t0 + r / group;
                sc.rowQuery[r] = (tokenBase + i) * stride + (g * group + r % group) * headDim;
                sc.rowCount[r] = span.startPosition() + i + 1;
            }
            kernels.attentionScoresStaged(q, sc.rowQuery, sc.rowCount, rows, staged, stagedAt, headDim, scale, w, 0,
                    cap);
            for (int i = t0; i < t1; i++) {
                int n = span.startPosition() + i + 1;
                int row = (i - t0) * group;
                for (int h = 0; h < group; h++) kernels.softmax(w, (row + h) * cap, n);
                kernels.attentionValuesStaged(w, row * cap, cap, group, staged, valuesAt, n, headDim, out,
                        (tokenBase + i) * stride + g * group * headDim);
            }
        }
    }
}
