package io.tandem.engine.kernels;

import io.tandem.engine.bench.Bench;
import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.ModelWeights;
import io.tandem.engine.forward.SequenceSpan;
import io.tandem.engine.forward.Transformer;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;

import java.nio.file.Path;
import java.util.Random;

/**
 * A Q4_0 model through the float-decoding path and through the panel kernels: the largest logit difference over a
 * prompt and teacher-forced decode steps, then (with "bench") the forward benchmark for both. A tool, not a test.
 * Args: model.gguf [bench].
 */
public final class Q4ModelCheck {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        try (GgufFile file = GgufFile.open(model); ComputePool pool = new ComputePool(2)) {
            ModelConfig config = ModelConfig.from(file.metadata());
            ModelWeights weights = ModelWeights.load(file, config);
            System.setProperty(Q4Dispatch.PROPERTY, "false");
            Transformer old = new Transformer(weights, new MatMul(Kernels.create(KernelMode.VECTOR), pool));
            System.setProperty(Q4Dispatch.PROPERTY, "true");
            Transformer q4 = new Transformer(weights, new MatMul(Kernels.create(KernelMode.VECTOR), pool));
            int[] tokens = new Random(7).ints(96, 3, config.vocabSize()).toArray();
            int prompt = 64;
            double maxDiff = 0, maxLogit = 0;
            int sameTop = 0, steps = 0;
            try (KvArenas a = cache(config, 96); KvArenas b = cache(config, 96)) {
                int[] table = new int[6];
                for (int i = 0; i < table.length; i++) table[i] = i;
                for (int pos = 0; pos < tokens.length; ) {
                    int len = pos == 0 ? prompt : 1;
                    int[] chunk = java.util.Arrays.copyOfRange(tokens, pos, pos + len);
                    float[] la = old.forward(Batch.of(SequenceSpan.of(chunk, pos, table)), a).lastLogits(0);
                    float[] lb = q4.forward(Batch.of(SequenceSpan.of(chunk, pos, table)), b).lastLogits(0);
                    int ta = 0, tb = 0;
                    for (int v = 0; v < la.length; v++) {
                        maxDiff = Math.max(maxDiff, Math.abs(la[v] - lb[v]));
                        maxLogit = Math.max(maxLogit, Math.abs(la[v]));
                        if (la[v] > la[ta]) ta = v;
                        if (lb[v] > lb[tb]) tb = v;
                    }
                    sameTop += ta == tb ? 1 : 0;
                    steps++;
                    pos += len;
                }
            }
            System.out.printf("max |logit difference| %.4f (largest |logit| %.3f), same argmax in %d of %d steps%n",
                    maxDiff, maxLogit, sameTop, steps);
        }
        if (args.length > 1 && args[1].equals("cpu")) cpuTimes(model);
        if (args.length > 1 && args[1].equals("bench")) {
            for (String on : new String[] {"false", "true"}) {
                System.setProperty(Q4Dispatch.PROPERTY, on);
                System.out.println("q4 panels " + on + ":");
                System.out.println(new Bench(model, 2, KernelMode.VECTOR, new int[] {512}, 64, new int[] {1, 16}, 2, false)
                        .run(System.out).table());
            }
        }
    }

    /**
     * One thread, timed by its CPU time (minimum over rounds, old and panels alternating): the cost of a decode step
     * and of a 16-sequence step and a 128-token prompt, robust to a machine shared with other work.
     */
    private static void cpuTimes(Path model) throws Exception {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        try (GgufFile file = GgufFile.open(model); ComputePool pool = new ComputePool(1)) {
            ModelConfig config = ModelConfig.from(file.metadata());
            ModelWeights weights = ModelWeights.load(file, config);
            Transformer[] ts = new Transformer[2];
            for (int i = 0; i < 2; i++) {
                System.setProperty(Q4Dispatch.PROPERTY, i == 0 ? "false" : "true");
                ts[i] = new Transformer(weights, new MatMul(Kernels.create(KernelMode.VECTOR), pool));
            }
            int seqs = 16, ctx = 160;
            long[][] best = new long[2][3];
            for (long[] b : best) java.util.Arrays.fill(b, Long.MAX_VALUE);
            for (int round = 0; round < 6; round++) {
                for (int i = 0; i < 2; i++) {
                    Transformer t = ts[i];
                    try (KvArenas c = KvArenas.allocate(KvLayout.forModel(config, 16, KvDataType.F32, seqs * ctx / 16))) {
                        int[][] tables = new int[seqs][ctx / 16];
                        for (int s = 0; s < seqs; s++) for (int k = 0; k < ctx / 16; k++) tables[s][k] = s * (ctx / 16) + k;
                        int[] prompt = new Random(round).ints(128, 3, config.vocabSize()).toArray();
                        long t0 = mx.getCurrentThreadCpuTime();
                        t.forward(Batch.of(SequenceSpan.of(prompt, 0, tables[0])), c); // pp128
                        long t1 = mx.getCurrentThreadCpuTime();
                        for (int step = 0; step < 16; step++) { // tg: 16 single steps
                            t.forward(Batch.of(SequenceSpan.of(new int[] {5 + step}, 128 + step, tables[0])), c);
                        }
                        long t2 = mx.getCurrentThreadCpuTime();
                        for (int s = 1; s < seqs; s++) t.forward(Batch.of(SequenceSpan.of(new int[] {7, 8}, 0, tables[s])), c);
                        long t3 = mx.getCurrentThreadCpuTime();
                        for (int step = 0; step < 8; step++) { // 16 sequences, one token each
                            java.util.List<SequenceSpan> spans = new java.util.ArrayList<>();
                            spans.add(SequenceSpan.of(new int[] {9}, 144 + step, tables[0]));
                            for (int s = 1; s < seqs; s++) spans.add(SequenceSpan.of(new int[] {9}, 2 + step, tables[s]));
                            t.forward(new Batch(spans), c);
                        }
                        long t4 = mx.getCurrentThreadCpuTime();
                        if (round >= 2) {
                            best[i][0] = Math.min(best[i][0], t1 - t0);
                            best[i][1] = Math.min(best[i][1], (t2 - t1) / 16);
                            best[i][2] = Math.min(best[i][2], (t4 - t3) / 8);
                        }
                    }
                }
            }
            String[] names = {"pp128 (ms per prompt)", "tg (ms per token)", "16 sequences (ms per step)"};
            for (int k = 0; k < 3; k++) {
                System.out.printf("1 thread, CPU time: %-28s old %8.2f | panels %8.2f | x%.2f%n", names[k], best[0][k] / 1e6,
                        best[1][k] / 1e6, best[0][k] / (double) best[1][k]);
            }
        }
    }

    private static KvArenas cache(ModelConfig config, int tokens) {
        return KvArenas.allocate(KvLayout.forModel(config, 16, KvDataType.F32, (tokens + 15) / 16));
    }
}
