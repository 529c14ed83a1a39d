package io.tandem.engine.jmh;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kernels.Q4Kernels;
import io.tandem.engine.kernels.Q4MatMul;
import io.tandem.engine.kernels.Q4Panels;
import io.tandem.engine.kernels.Q8Activations;
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
 * Q4_0 on the benchmark model's ffn_up shape (2048 x 768): the float-decoding path of {@link MatMul} ("old") against
 * the panel kernels with 8-bit activations ({@link Q4MatMul}, "panels"), per batch size and thread count. Compare
 * the two in the same run (ratios); on a shared machine prefer {@code Q4Speed} (thread CPU time, one thread).
 * {@code quantize} times the activations' 8-bit quantization alone; with {@code -prof gc} it shows whether C2 boxed
 * vectors where it inlined the kernel (here, into the benchmark's loop).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class Q4KernelBenchmarks {
    private static final int ROWS = 2048, COLS = 768;

    @Param({"1", "16", "128"})
    public int batch;
    @Param({"1", "2"})
    public int threads;

    private ComputePool pool;
    private MatMul old;
    private Q4MatMul panels;
    private WeightMatrix w;
    private Q4Panels packed;
    private float[] x, y;
    private Q4Kernels kernels;
    private final Q8Activations act = new Q8Activations();

    @Setup(Level.Trial)
    public void setUp() {
        Random rnd = new Random(1);
        w = TestTensors.matrix(GgufTensorType.Q4_0, ROWS, COLS, TestTensors.random(rnd, ROWS * COLS, 0.02f));
        x = TestTensors.random(rnd, batch * COLS, 1f);
        y = new float[batch * ROWS];
        pool = new ComputePool(threads);
        Kernels k = Kernels.create(KernelMode.VECTOR);
        old = new MatMul(k, pool);
        kernels = Q4Kernels.create(k);
        panels = new Q4MatMul(kernels, pool);
        act.reserve(batch, COLS);
        packed = panels.pack(w);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    @Benchmark
    public float[] old() {
        old.multiply(x, batch, MatMul.Projection.of(w, y));
        return y;
    }

    @Benchmark
    public Q8Activations quantize() {
        kernels.quantize(act, x, 0, batch);
        return act;
    }

    @Benchmark
    public float[] panels() {
        panels.multiply(x, batch, Q4MatMul.Projection.of(packed, y));
        return y;
    }
}
