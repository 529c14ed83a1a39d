package io.tandem.engine.bench;

import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.LayerListener;
import io.tandem.engine.forward.ModelWeights;
import io.tandem.engine.forward.SequenceSpan;
import io.tandem.engine.forward.Transformer;
import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;
import io.tandem.protocol.progress.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Measures the forward pass the way llama-bench does: {@code ppN} runs an N-token prompt as one batch from an
 * empty cache, {@code tgN} generates N tokens one at a time. Batched decode runs B sequences (each after a short
 * prompt, as llama-batched-bench's 16-token one) through N steps together and reports the aggregate rate. Each test
 * is repeated after a warm-up of at least one run and {@code warmupSeconds}: llama-bench warms up with one run, which
 * is its steady state, but Tandem's kernels are compiled by the JIT while they run, and one run left the first
 * measured ones slow (Zen 5, Q4_0, per repetition after one warm-up run: pp512 1366, 1463, 1564 then about 1600 t/s;
 * tg64 263, 375, 535 then about 600). Every test runs {@link Transformer#step}, as the engine does: its logits go to
 * a buffer it reuses, where {@code forward} allocated them afresh (16 sequences x 32000 floats, 2 MB a step, a young
 * collection every few seconds).
 *
 * With a depth {@code d > 0} (llama-bench's {@code -d}), pp and tg run after a {@code d}-token context already in the
 * cache ({@code tg128 @ d256}), and batched decode after a {@code d}-token prompt per sequence
 * ({@code tg64@b16 @ d256}, llama-batched-bench's {@code -npp d}): a served conversation decodes after its prompt, and
 * attention grows with the context.
 *
 * @param prompts     prompt lengths to test (pp)
 * @param generate    tokens to generate (tg and batched decode); 0 skips both
 * @param batches     sequence counts for batched decode (1 means plain tg)
 * @param depths      context lengths already cached before pp, tg and batched decode (0: an empty cache)
 * @param kvType      element type of the KV cache (llama-bench's {@code -ctk}/{@code -ctv}; its default is F16)
 */
public record Bench(Path model, int threads, KernelMode kernels, int[] prompts, int generate, int[] batches, int[] depths,
                    KvDataType kvType, int repetitions, double warmupSeconds, boolean measureBandwidth) {
    private static final int BATCH_PROMPT = 16;

    public BenchReport run(PrintStream progress) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        try (GgufFile file = GgufFile.open(model); ComputePool pool = new ComputePool(threads)) {
            ModelConfig config = ModelConfig.from(file.metadata());
            ModelWeights weights = ModelWeights.load(file, config);
            Transformer t = new Transformer(weights, new MatMul(Kernels.create(kernels), pool));
            double openMillis = (System.nanoTime() - t0) / 1e6;
            String label = String.format(Locale.ROOT, "%s %.1fM %s", config.arch(), weights.parameterCount() / 1e6,
                    weights.layers().getFirst().wq().type());
            progress.printf("%s: %s kernels, %d threads, %s KV cache, opened in %.0f ms%n", model.getFileName(),
                    t.matmul().kernels().name(), threads, kvType, openMillis);

            int maxBatch = 1;
            for (int b : batches) maxBatch = Math.max(maxBatch, b);
            int maxPrompt = 0;
            for (int p : prompts) maxPrompt = Math.max(maxPrompt, p);
            int maxDepth = 0;
            for (int d : depths) maxDepth = Math.max(maxDepth, d);
            int perSeq = Math.max(maxDepth + Math.max(maxPrompt, generate), Math.max(generate, 1) + BATCH_PROMPT);
            if (perSeq > config.contextLength()) {
                throw new IllegalArgumentException("tests need " + perSeq + " positions but the model's context is " + config.contextLength());
            }
            int blocksPerSeq = (perSeq + 15) / 16;
            List<BenchResult> results = new ArrayList<>();
            try (KvArenas cache = KvArenas.allocate(KvLayout.forModel(config, 16, kvType, blocksPerSeq * maxBatch))) {
                int[][] tables = new int[maxBatch][blocksPerSeq];
                for (int s = 0; s < maxBatch; s++) for (int i = 0; i < blocksPerSeq; i++) tables[s][i] = s * blocksPerSeq + i;
                SplittableRandom rnd = new SplittableRandom(1);
                int vocab = config.vocabSize();
                for (int d : depths) {
                    String at = d > 0 ? " @ d" + d : "";
                    if (d > 0) t.forward(Batch.of(SequenceSpan.of(rnd.ints(d, 3, vocab).toArray(), 0, tables[0])), cache);
                    for (int p : prompts) {
                        int[] prompt = rnd.ints(p, 3, vocab).toArray();
                        Batch batch = Batch.of(SequenceSpan.of(prompt, d, tables[0]));
                        results.add(measure("pp" + p + at, 1, p, progress,
                                () -> t.step(batch, cache, LayerListener.NONE)));
                    }
                    if (generate > 0 && Arrays.stream(batches).anyMatch(b -> b <= 1)) {
                        results.add(measure("tg" + generate + at, 1, generate, progress, () -> {
                            for (int i = 0; i < generate; i++) {
                                int[] token = {3 + i % (vocab - 3)};
                                t.step(Batch.of(SequenceSpan.of(token, d + i, tables[0])), cache, LayerListener.NONE);
                            }
                        }));
                    }
                    int context = d > 0 ? d : BATCH_PROMPT; // each batched sequence's own prompt
                    for (int b : batches) {
                        if (generate > 0 && b > 1) {
                            results.add(batchedDecode(t, cache, tables, rnd, b, context, at, progress));
                        }
                    }
                }
            }
            double bandwidth = measureBandwidth ? MemoryBandwidth.copyBytesPerSecond(threads, 256L << 20, 5) : 0;
            return new BenchReport(label, Files.size(model), weights.parameterCount(), "CPU " + t.matmul().kernels().name(),
                    threads, openMillis, weights.bytesPerToken(), bandwidth, results);
        }
    }

    /** {@code tgN@bB}: {@code b} sequences, each after its own {@code context}-token prompt, decode N steps at once. */
    private BenchResult batchedDecode(Transformer t, KvArenas cache, int[][] tables, SplittableRandom rnd, int b,
                                      int context, String at, PrintStream progress) {
        int vocab = t.config().vocabSize();
        for (int s = 0; s < b; s++) {
            t.forward(Batch.of(SequenceSpan.of(rnd.ints(context, 3, vocab).toArray(), 0, tables[s])), cache);
        }
        return measure("tg" + generate + "@b" + b + at, b, (long) generate * b, progress, () -> {
            for (int i = 0; i < generate; i++) {
                List<SequenceSpan> spans = new ArrayList<>(b);
                for (int s = 0; s < b; s++) {
                    spans.add(SequenceSpan.of(new int[] {3 + (i + s) % (vocab - 3)}, context + i, tables[s]));
                }
                t.step(new Batch(spans), cache, LayerListener.NONE);
            }
        });
    }

    private BenchResult measure(String test, int batch, long tokens, PrintStream progress, Runnable body) {
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        do {
            body.run();
        } while (System.nanoTime() < warmEnd);
        double[] rates = new double[repetitions];
        // on stderr, whatever stream the result lines go to; started after the warm-up (JIT) so that the ETA holds, and
        // its bar erased before the result's line
        try (Progress bar = Progress.onStderr("bench " + test, "reps", repetitions)) {
            for (int r = 0; r < repetitions; r++) {
                long t0 = System.nanoTime();
                body.run();
                rates[r] = tokens / ((System.nanoTime() - t0) / 1e9);
                bar.update(r + 1);
            }
        }
        BenchResult result = BenchResult.of(test, batch, rates);
        progress.printf(Locale.ROOT, "  %-10s %10.2f ± %.2f t/s%n", test, result.tokensPerSecond(), result.stddev());
        return result;
    }
}
