package io.tandem.engine.jmh;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.LinearWeight;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kernels.MatMul.Projection;
import io.tandem.engine.kernels.TestTensors;
import io.tandem.engine.kernels.WeightMatrix;
import io.tandem.model.gguf.GgufTensorType;
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
 * The kernels on the benchmark model's largest projection shape (ffn_up: 2048 x 768): a weight matrix times a batch
 * of activation vectors, per weight type and batch size, on the compute pool (2 threads), and the vector against the
 * scalar path; {@code layout} compares the weights packed into row panels at load (what the engine uses,
 * {@link MatMul#pack}) with the GGUF rows read in place (the earlier kernels). Run with {@code ./tandem jmh} (see
 * docs/BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBenchmarks {
    private static final int ROWS = 2048, COLS = 768;

    @Param({"F32", "F16", "Q8_0", "Q4_0"})
    public String type;
    @Param({"1", "16", "128"})
    public int batch;
    @Param({"VECTOR"})
    public String kernels;
    @Param({"packed", "gguf"})
    public String layout;

    private MatMul matmul;
    private ComputePool pool;
    private LinearWeight w;
    private float[] x, y;

    @Setup(Level.Trial)
    public void setUp() {
        Random rnd = new Random(1);
        WeightMatrix m = TestTensors.matrix(GgufTensorType.valueOf(type), ROWS, COLS, TestTensors.random(rnd, ROWS * COLS, 0.02f));
        x = TestTensors.random(rnd, batch * COLS, 1f);
        y = new float[batch * ROWS];
        pool = new ComputePool(2);
        matmul = new MatMul(Kernels.create(KernelMode.valueOf(kernels)), pool);
        w = layout.equals("packed") ? matmul.pack(m) : m;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    /** One projection of the whole batch; divide by batch for the time per token. */
    @Benchmark
    public float[] matmul() {
        matmul.multiply(x, batch, Projection.of(w, y));
        return y;
    }
}
