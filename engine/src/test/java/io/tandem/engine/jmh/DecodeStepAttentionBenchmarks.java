package io.tandem.engine.jmh;

import io.tandem.engine.cache.ClosedLoopPool;
import io.tandem.engine.forward.Attention;
import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.SequenceSpan;
import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.TestTensors;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The attention of one batched decode step of the benchmark model (12 layers, 12 query heads over 4 KV heads, head
 * dim 64): {@code sequences} sequences of {@code context} positions each decode one token, every layer in turn. Unlike
 * {@link AttentionBenchmarks}' one sequence and one layer, the step's keys and values (126 MB for 16 sequences of 320
 * positions in F32) do not fit in the caches, so this measures what serving's decode steps pay: KV read from memory,
 * with the blocks placed as {@link #blocks} says (docs/BENCHMARKS.md: scattered blocks cost 1.5-1.9x).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DecodeStepAttentionBenchmarks {

    private static final int LAYERS = 12, KV_HEADS = 4, HEAD_DIM = 64, HEADS = 12, BLOCK = 16;
    /** The pool holds this many times the blocks the step's sequences use (the rest belong to no one here). */
    private static final int POOL_SPREAD = 4;
    /** The KV blocks of the serving worker for the benchmark model (511 MiB of F32 KV, the default budget). */
    private static final int AGED_POOL = 1365;

    @Param({"F32", "F16"})
    public String kv;
    @Param({"320"})
    public int context;
    @Param({"16"})
    public int sequences;
    @Param({"2"})
    public int threads;
    /**
     * Where each sequence's blocks are: {@code contiguous} (one run per sequence, as a fresh pool hands out a prompt's
     * blocks), {@code interleaved} (the sequences' blocks alternate, as when they all grow by a block per step) or
     * {@code scattered} (anywhere in a pool four times larger) or {@code aged} (as the block pool places them after
     * serving 16 streams of 256 + 128 tokens for a while: {@link ClosedLoopPool} on the serving worker's 1,365 blocks).
     */
    @Param({"contiguous", "interleaved", "scattered", "aged"})
    public String blocks;

    private ComputePool pool;
    private KvArenas cache;
    private Attention attention;
    private Batch step;
    private float[] q, out;

    @Setup(Level.Trial)
    public void setUp() {
        Random rnd = new Random(5);
        int perSequence = (context + BLOCK - 1) / BLOCK, poolBlocks = perSequence * sequences * POOL_SPREAD;
        int[][] aged = null;
        if (blocks.equals("aged")) {
            poolBlocks = Math.max(AGED_POOL, perSequence * sequences);
            ClosedLoopPool served = new ClosedLoopPool(poolBlocks, BLOCK, 16, 256, 128, 110, 1).run(20_000);
            aged = served.tables(sequences, perSequence);
        }
        cache = KvArenas.allocate(new KvLayout(LAYERS, poolBlocks, BLOCK, KV_HEADS, HEAD_DIM, KvDataType.valueOf(kv)));
        List<Integer> ids = new ArrayList<>();
        for (int b = 0; b < poolBlocks; b++) ids.add(b);
        if (blocks.equals("scattered")) Collections.shuffle(ids, rnd);
        boolean interleaved = blocks.equals("interleaved");
        List<SequenceSpan> spans = new ArrayList<>();
        int tokenDim = KV_HEADS * HEAD_DIM;
        float[] k = TestTensors.random(rnd, tokenDim, 1f), v = TestTensors.random(rnd, tokenDim, 1f);
        for (int s = 0; s < sequences; s++) {
            int[] table = aged != null ? aged[s] : new int[perSequence];
            for (int b = 0; aged == null && b < perSequence; b++) {
                table[b] = ids.get(interleaved ? b * sequences + s : s * perSequence + b);
            }
            for (int layer = 0; layer < LAYERS; layer++) {
                for (int p = 0; p < context; p++) cache.write(layer, table, p, k, 0, v, 0);
            }
            spans.add(SequenceSpan.of(new int[1], context - 1, table));
        }
        step = Batch.of(spans.toArray(SequenceSpan[]::new));
        q = TestTensors.random(rnd, sequences * HEADS * HEAD_DIM, 1f);
        out = new float[sequences * HEADS * HEAD_DIM];
        pool = new ComputePool(threads);
        attention = new Attention(Kernels.create(KernelMode.VECTOR), HEADS, KV_HEADS, HEAD_DIM, threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        cache.close();
    }

    /** Every layer's attention for the step's {@code sequences} decode tokens. */
    @Benchmark
    public float[] step() {
        for (int layer = 0; layer < LAYERS; layer++) attention.run(pool, step, cache, layer, q, out, 32);
        return out;
    }
}
