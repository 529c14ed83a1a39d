package io.tandem.engine.jmh;

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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Causal attention of one layer of the benchmark model (12 query heads, 4 KV heads, head dim 64) over the paged KV
 * cache: {@code prefill} is a 512-token chunk attending to itself, {@code decode} one token at position
 * {@code context - 1} (what tg and batched decode run per sequence). Blocks are in reverse order in the arenas, as a
 * block pool that has been in use hands them out. {@code -p heads=4,8,16} gives the GQA groups of other models.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBenchmarks {
    private static final int KV_HEADS = 4, HEAD_DIM = 64, BLOCK = 16;

    @Param({"F32", "F16"})
    public String kv;
    @Param({"512"})
    public int context;
    @Param({"1", "2"})
    public int threads;
    /** Query heads over the 4 KV heads: 12 is the benchmark model's group of 3; 4, 8 and 16 are groups of 1, 2, 4. */
    @Param({"12"})
    public int heads;

    private ComputePool pool;
    private KvArenas cache;
    private Attention attention;
    private Batch prefill, decode;
    private float[] q, out;

    @Setup(Level.Trial)
    public void setUp() {
        Random rnd = new Random(3);
        int blocks = (context + BLOCK - 1) / BLOCK;
        cache = KvArenas.allocate(new KvLayout(1, blocks, BLOCK, KV_HEADS, HEAD_DIM, KvDataType.valueOf(kv)));
        int[] table = new int[blocks];
        for (int b = 0; b < blocks; b++) table[b] = blocks - 1 - b;
        int tokenDim = KV_HEADS * HEAD_DIM;
        for (int p = 0; p < context; p++) {
            cache.write(0, table, p, TestTensors.random(rnd, tokenDim, 1f), 0, TestTensors.random(rnd, tokenDim, 1f), 0);
        }
        prefill = Batch.of(SequenceSpan.of(new int[context], 0, table));
        decode = Batch.of(SequenceSpan.of(new int[1], context - 1, table));
        q = TestTensors.random(rnd, context * heads * HEAD_DIM, 1f);
        out = new float[context * heads * HEAD_DIM];
        pool = new ComputePool(threads);
        attention = new Attention(Kernels.create(KernelMode.VECTOR), heads, KV_HEADS, HEAD_DIM, threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        cache.close();
    }

    /** All queries of a {@code context}-token prompt chunk (chunks of 32 queries per task, as the engine runs it). */
    @Benchmark
    public float[] prefill() {
        attention.run(pool, prefill, cache, 0, q, out, 32);
        return out;
    }

    /** One decode token attending to {@code context} positions. */
    @Benchmark
    public float[] decode() {
        attention.run(pool, decode, cache, 0, q, out, 32);
        return out;
    }
}
