package io.tandem.registry.jmh;

import io.tandem.protocol.kv.KvEvent;
import io.tandem.registry.kv.KvIndex;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The router's KV index at scale: {@code blocks} indexed blocks spread over {@code workers} workers, as chains of
 * {@code promptBlocks} blocks (conversations), each chain held by 1 to 3 workers. {@link #lookup} is a routing
 * decision's index work for a {@code promptBlocks}-block prompt whose first half is cached somewhere;
 * {@link #applyStored} the cost of one stored event of 16 blocks. Run with
 * {@code ./tandem jmh-registry KvIndexBenchmarks -bm sample} for percentiles (see docs/BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class KvIndexBenchmarks {
    @Param({"1000000"})
    public int blocks;
    @Param({"64"})
    public int workers;
    @Param({"256"})
    public int promptBlocks;

    private KvIndex index;
    private long[][] prompts;
    private int next;
    private long nextHash = Long.MIN_VALUE;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(7);
        index = new KvIndex();
        int chains = blocks / promptBlocks;
        prompts = new long[1024][];
        for (int c = 0; c < chains; c++) {
            long[] chain = rnd.longs(promptBlocks).toArray();
            int holders = 1 + rnd.nextInt(3);
            for (int h = 0; h < holders; h++) {
                int w = rnd.nextInt(workers);
                int held = h == 0 ? promptBlocks : 1 + rnd.nextInt(promptBlocks); // others hold a shorter prefix
                index.apply("worker-" + w, new KvEvent.BlocksStored(java.util.Arrays.copyOf(chain, held), 0));
            }
            if (c < prompts.length) {
                long[] prompt = chain.clone();
                for (int i = promptBlocks / 2; i < promptBlocks; i++) prompt[i] = rnd.nextLong(); // new second half
                prompts[c] = prompt;
            }
        }
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) System.gc();
        System.out.printf("%nindex: %d blocks, %d entries, heap used %.1f MB%n", index.size(), index.entries(),
                (rt.totalMemory() - rt.freeMemory()) / 1e6);
    }

    @Benchmark
    public Map<String, Integer> lookup() {
        long[] p = prompts[next++ & (prompts.length - 1)];
        return index.prefixBlocks(p);
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void applyStored() {
        long[] hashes = new long[16];
        for (int i = 0; i < 16; i++) hashes[i] = nextHash++;
        index.apply("worker-" + (nextHash & 63), new KvEvent.BlocksStored(hashes, 0));
        index.apply("worker-" + (nextHash & 63), new KvEvent.BlocksRemoved(hashes)); // keep the index at its size
    }
}
