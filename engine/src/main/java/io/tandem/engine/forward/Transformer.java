package io.tandem.engine.forward;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kernels.MatMul.Projection;
import io.tandem.engine.kernels.Rope;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvLayout;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;

import java.util.HashSet;
import java.util.Set;

/**
 * The forward pass of llama, qwen2 and qwen3 models (RMSNorm, RoPE, grouped-query attention over a paged KV cache,
 * SwiGLU), shaped for continuous batching: one {@link #forward} computes every span of a {@link Batch} together.
 * All new tokens of all spans go through each weight matrix at once (prefill is matrix x matrix); attention runs
 * per span over its cached and new positions, read through its block table.
 *
 * <p>A sequence's results do not depend on what else is in the batch, nor on how its prompt was split into chunks.
 * Not thread-safe: one forward at a time (it uses the pool of its {@link MatMul}).
 */
public final class Transformer {
    /** Query tokens of one span handled by one attention task. */
    private static final int ATTENTION_CHUNK = 32;

    private final ModelWeights weights;
    private final PackedWeights packed;
    private final ModelConfig config;
    private final MatMul matmul;
    private final Kernels kernels;
    private final ComputePool pool;
    private final Rope rope;
    private final Attention attention;
    private final Buffers buf = new Buffers();

    public Transformer(ModelWeights weights, MatMul matmul) {
        this.weights = weights;
        this.config = weights.config();
        this.matmul = matmul;
        this.kernels = matmul.kernels();
        this.pool = matmul.pool();
        this.packed = PackedWeights.of(weights, matmul);
        ModelConfig.RopeScaling scaling = config.ropeScaling();
        if (!scaling.type().equals("none") && !scaling.type().equals("linear")) {
            throw new IllegalArgumentException("rope scaling type '" + scaling.type() + "' is not supported (none, linear)");
        }
        double freqScale = scaling.type().equals("linear") ? 1.0 / scaling.factor() : 1.0;
        this.rope = new Rope(config.ropeDimensionCount(), config.ropeNeox(), config.ropeFreqBase(), freqScale,
                weights.ropeFreqFactors());
        if (config.valueDim() != config.headDim()) {
            throw new IllegalArgumentException("value head size " + config.valueDim() + " != key head size "
                    + config.headDim() + " is not supported");
        }
        this.attention = new Attention(kernels, config.headCount(), config.headCountKv(), config.headDim(),
                pool.threads());
    }

    /** The model of a GGUF file (config from its metadata), computing with {@code matmul}'s kernels and pool. */
    public static Transformer load(GgufFile file, MatMul matmul) {
        return new Transformer(ModelWeights.load(file, ModelConfig.from(file.metadata())), matmul);
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    public MatMul matmul() {
        return matmul;
    }

    /**
     * Computes one step: appends every span's tokens to its KV (through its block table) and returns the logits the
     * spans asked for. Positions before a span's start must already be in the cache.
     */
    public ForwardResult forward(Batch batch, KvArenas cache) {
        return forward(batch, cache, LayerListener.NONE);
    }

    /**
     * As {@link #forward(Batch, KvArenas)}, telling {@code listener} as soon as each layer's KV of the whole batch is in
     * the cache, so it can be sent to a decode worker while the later layers still compute.
     */
    public ForwardResult forward(Batch batch, KvArenas cache, LayerListener listener) {
        return run(batch, cache, listener, false);
    }

    /**
     * As {@link #forward(Batch, KvArenas, LayerListener)}, with the logits in a buffer this transformer reuses: they
     * are valid until its next step. For the engine's loop, which samples from them before the next step: a fresh
     * array per step was most of what the engine allocated while serving (16 sequences x 32000 floats = 2 MB a step).
     */
    public ForwardResult step(Batch batch, KvArenas cache, LayerListener listener) {
        return run(batch, cache, listener, true);
    }

    private ForwardResult run(Batch batch, KvArenas cache, LayerListener listener, boolean reuseLogits) {
        check(batch, cache.layout());
        int n = batch.totalTokens();
        int e = config.embeddingLength();
        int qDim = config.headCount() * config.headDim();
        int kvDim = config.headCountKv() * config.headDim();
        int ff = config.feedForwardLength();
        buf.ensure(n, e, qDim, kvDim, ff, rope.pairs());

        // token -> span, position; rotation angles per token
        int t = 0;
        for (int s = 0; s < batch.size(); s++) {
            SequenceSpan span = batch.spans().get(s);
            for (int i = 0; i < span.length(); i++, t++) {
                buf.span[t] = s;
                buf.pos[t] = span.startPosition() + i;
                buf.token[t] = span.tokens()[i];
            }
        }
        float[] x = buf.x;
        forTokens(n, (t0, t1) -> {
            for (int i = t0; i < t1; i++) {
                int tok = buf.token[i];
                kernels.dequantize(weights.tokenEmbd(), tok, tok + 1, x, i * e);
                rope.angles(buf.pos[i], buf.cos, buf.sin, i * rope.pairs());
            }
        });

        for (int l = 0; l < weights.layers().size(); l++) {
            LayerWeights w = weights.layers().get(l);
            PackedWeights.Layer m = packed.layers().get(l);
            rmsnormRows(n, x, w.attnNorm(), buf.h, e);
            matmul.multiply(buf.h, n, Projection.of(m.wq(), buf.q), Projection.of(m.wk(), buf.k),
                    Projection.of(m.wv(), buf.v));
            int layer = l;
            forTokens(n, (t0, t1) -> {
                for (int i = t0; i < t1; i++) prepareQkv(w, layer, batch, cache, i, qDim, kvDim);
            });
            listener.onLayerStored(l);
            attention.run(pool, batch, cache, l, buf.q, buf.att, ATTENTION_CHUNK);
            matmul.multiply(buf.att, n, Projection.accumulating(m.wo(), x));
            rmsnormRows(n, x, w.ffnNorm(), buf.h, e);
            matmul.multiply(buf.h, n, Projection.of(m.gate(), buf.gate), Projection.of(m.up(), buf.up));
            forTokens(n, (t0, t1) -> kernels.siluMul(buf.gate, buf.up, t0 * ff, (t1 - t0) * ff));
            matmul.multiply(buf.gate, n, Projection.accumulating(m.down(), x));
        }
        return logits(batch, n, e, reuseLogits);
    }

    /** Biases, per-head q/k norms and rotation of token {@code i}; then its K and V go to the cache. */
    private void prepareQkv(LayerWeights w, int layer, Batch batch, KvArenas cache, int i, int qDim, int kvDim) {
        int hd = config.headDim();
        float[] q = buf.q, k = buf.k, v = buf.v;
        if (w.bq() != null) addBias(q, i * qDim, w.bq());
        if (w.bk() != null) addBias(k, i * kvDim, w.bk());
        if (w.bv() != null) addBias(v, i * kvDim, w.bv());
        int cs = i * rope.pairs();
        for (int h = 0; h < config.headCount(); h++) {
            int off = i * qDim + h * hd;
            if (w.qNorm() != null) kernels.rmsnorm(q, off, w.qNorm(), q, off, hd, config.rmsEps());
            rope.apply(q, off, buf.cos, buf.sin, cs);
        }
        for (int h = 0; h < config.headCountKv(); h++) {
            int off = i * kvDim + h * hd;
            if (w.kNorm() != null) kernels.rmsnorm(k, off, w.kNorm(), k, off, hd, config.rmsEps());
            rope.apply(k, off, buf.cos, buf.sin, cs);
        }
        cache.write(layer, batch.spans().get(buf.span[i]).blockTable(), buf.pos[i], k, i * kvDim, v, i * kvDim);
    }

    private static void addBias(float[] a, int off, float[] bias) {
        for (int j = 0; j < bias.length; j++) a[off + j] += bias[j];
    }

    private ForwardResult logits(Batch batch, int n, int e, boolean reuse) {
        int[] firstRow = new int[batch.size()];
        int[] rowCount = new int[batch.size()];
        int rows = 0;
        int t = 0;
        for (int s = 0; s < batch.size(); s++) {
            SequenceSpan span = batch.spans().get(s);
            firstRow[s] = rows;
            rowCount[s] = span.logitRows();
            int from = t + span.length() - rowCount[s];
            for (int r = 0; r < rowCount[s]; r++) buf.sel[rows + r] = from + r;
            rows += rowCount[s];
            t += span.length();
        }
        int vocab = config.vocabSize();
        int size = Math.multiplyExact(rows, vocab);
        float[] out;
        if (!reuse) {
            out = new float[size];
        } else {
            if (buf.logits.length < size) buf.logits = new float[size];
            out = buf.logits;
        }
        if (rows > 0) {
            int count = rows;
            forTokens(count, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    kernels.rmsnorm(buf.x, buf.sel[r] * e, weights.outputNorm(), buf.h, r * e, e, config.rmsEps());
                }
            });
            matmul.multiply(buf.h, rows, Projection.of(packed.output(), out));
        }
        return new ForwardResult(out, vocab, firstRow, rowCount);
    }

    private void rmsnormRows(int n, float[] x, float[] weight, float[] out, int e) {
        forTokens(n, (t0, t1) -> {
            for (int i = t0; i < t1; i++) kernels.rmsnorm(x, i * e, weight, out, i * e, e, config.rmsEps());
        });
    }

    private interface Range {
        void run(int from, int to);
    }

    /** Splits {@code [0, n)} into a few chunks per thread (small loops stay on the caller). */
    private void forTokens(int n, Range body) {
        int chunk = Math.max(4, (n + 4 * pool.threads() - 1) / (4 * pool.threads()));
        int tasks = (n + chunk - 1) / chunk;
        pool.run(tasks, (task, worker) -> body.run(task * chunk, Math.min(n, (task + 1) * chunk)));
    }

    private void check(Batch batch, KvLayout layout) {
        if (layout.layers() != config.blockCount() || layout.kvHeads() != config.headCountKv()
                || layout.headDim() != config.headDim()) {
            throw new IllegalArgumentException("KV cache layout " + layout + " does not fit model " + config.name());
        }
        for (SequenceSpan s : batch.spans()) {
            for (int tok : s.tokens()) {
                if (tok < 0 || tok >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + tok + " outside the vocabulary [0, "
                            + config.vocabSize() + ")");
                }
            }
            if (layout.blocksFor(s.endPosition()) > s.blockTable().length) {
                throw new IllegalArgumentException("block table of " + s.blockTable().length + " blocks cannot hold "
                        + s.endPosition() + " positions of " + layout.blockSize());
            }
        }
        if (batch.size() > 1) {
            // two spans appending into the same block would overwrite each other's keys and values
            Set<Integer> written = new HashSet<>();
            for (SequenceSpan s : batch.spans()) {
                for (int b = s.startPosition() / layout.blockSize(); b < layout.blocksFor(s.endPosition()); b++) {
                    if (!written.add(s.blockTable()[b])) {
                        throw new IllegalArgumentException("block " + s.blockTable()[b]
                                + " is written by two spans of one batch");
                    }
                }
            }
        }
    }

    /** Activation buffers, grown to the largest batch seen. */
    private static final class Buffers {
        int capacity = -1;
        int[] span, pos, token, sel;
        float[] x, h, q, k, v, att, gate, up, cos, sin;
        /** The logits of {@link #step}, grown to the most rows asked. */
        float[] logits = new float[0];

        void ensure(int n, int e, int qDim, int kvDim, int ff, int pairs) {
            if (n <= capacity) return;
            int c = Math.max(n, 16);
            span = new int[c];
            pos = new int[c];
            token = new int[c];
            sel = new int[c];
            x = new float[c * e];
            h = new float[c * e];
            q = new float[c * qDim];
            k = new float[c * kvDim];
            v = new float[c * kvDim];
            att = new float[c * qDim];
            gate = new float[c * ff];
            up = new float[c * ff];
            cos = new float[c * pairs];
            sin = new float[c * pairs];
            capacity = c;
        }
    }
}
