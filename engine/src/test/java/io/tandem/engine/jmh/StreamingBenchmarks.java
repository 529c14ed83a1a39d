package io.tandem.engine.jmh;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.LinearWeight;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kernels.MatMul.Projection;
import io.tandem.engine.kernels.PanelMatrix;
import io.tandem.engine.kernels.Q4PanelMatrix;
import io.tandem.engine.kernels.TestTensors;
import io.tandem.engine.kernels.WeightMatrix;
import io.tandem.model.gguf.GgufTensorType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorSpecies;
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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Decode's matvec as decode runs it: the weights come from memory, not from a cache. {@link KernelBenchmarks}
 * multiplies one 2048 x 768 matrix over and over, so after the first call it is cache-resident; here each call takes
 * the next of enough packed copies (at least {@link #TOTAL_BYTES}) that every call reads its weights from DRAM, as a
 * forward pass reads each layer's once per token. {@link #read} is the reference run beside it: the same number of
 * bytes per call, from as many copies, summed with one 64-byte vector add per load on the same pool, i.e. the pace of
 * memory alone. {@code read / matvec} time is the fraction of the memory's pace the kernel reaches. Run with
 * {@code ./tandem jmh StreamingBenchmarks} (see docs/BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class StreamingBenchmarks {
    private static final int ROWS = 2048, COLS = 768;
    /** Far above the L3 a core can use (32 MB per Zen 5 CCD; getconf reports the socket's 508 MB): calls read DRAM. */
    private static final long TOTAL_BYTES = 384L << 20;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED;

    @Param({"F32", "F16", "Q8_0", "Q4_0"})
    public String type;
    @Param({"1", "2"})
    public int threads;

    private ComputePool pool;
    private MatMul matmul;
    private LinearWeight[] copies;
    private MemorySegment plain;
    private long copyBytes;
    private float[] x, y;
    private long[] sums;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        Random rnd = new Random(1);
        float[] values = TestTensors.random(rnd, ROWS * COLS, 0.02f);
        WeightMatrix m = TestTensors.matrix(GgufTensorType.valueOf(type), ROWS, COLS, values);
        pool = new ComputePool(threads);
        matmul = new MatMul(Kernels.create(KernelMode.VECTOR), pool);
        LinearWeight first = matmul.pack(m);
        copyBytes = packedBytes(first);
        int n = (int) Math.max(2, TOTAL_BYTES / copyBytes);
        copies = new LinearWeight[n];
        copies[0] = first;
        for (int i = 1; i < n; i++) copies[i] = matmul.pack(m);
        long stride = (copyBytes + 63) & ~63L;
        plain = Arena.ofAuto().allocate(stride * n, 64);
        x = TestTensors.random(rnd, COLS, 1f);
        y = new float[ROWS];
        sums = new long[64];
    }

    private static long packedBytes(LinearWeight w) {
        return switch (w) {
            case PanelMatrix p -> p.data().byteSize();
            case Q4PanelMatrix q -> q.panels().byteSize();
            case WeightMatrix g -> g.byteSize();
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    /** One projection of one token (decode at batch 1) with weights from memory. */
    @Benchmark
    public float[] matvec() {
        LinearWeight w = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        matmul.multiply(x, 1, Projection.of(w, y));
        return y;
    }

    /** The same bytes per call from memory, only summed: 16 tasks, like a matvec's panel ranges. */
    @Benchmark
    public long read() {
        long stride = (copyBytes + 63) & ~63L;
        long base = stride * next;
        next = next + 1 == copies.length ? 0 : next + 1;
        int tasks = 16;
        long per = (copyBytes / tasks) & ~(long) (B.length() - 1);
        pool.run(tasks, (i, worker) -> sums[i] = sum(plain, base + i * per, per));
        long s = 0;
        for (int i = 0; i < tasks; i++) s += sums[i];
        return s;
    }

    private static long sum(MemorySegment s, long from, long bytes) {
        ByteVector a0 = ByteVector.zero(B), a1 = a0, a2 = a0, a3 = a0;
        int l = B.length();
        long o = from, end = from + bytes;
        for (; o + 4L * l <= end; o += 4L * l) {
            a0 = a0.add(ByteVector.fromMemorySegment(B, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(ByteVector.fromMemorySegment(B, s, o + l, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(ByteVector.fromMemorySegment(B, s, o + 2L * l, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(ByteVector.fromMemorySegment(B, s, o + 3L * l, ByteOrder.LITTLE_ENDIAN));
        }
        for (; o + l <= end; o += l) a0 = a0.add(ByteVector.fromMemorySegment(B, s, o, ByteOrder.LITTLE_ENDIAN));
        return a0.add(a1).add(a2).add(a3).reduceLanesToLong(jdk.incubator.vector.VectorOperators.ADD);
    }
}
