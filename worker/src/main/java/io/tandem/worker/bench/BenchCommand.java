package io.tandem.worker.bench;

import io.tandem.engine.bench.Bench;
import io.tandem.engine.bench.BenchReport;
import io.tandem.engine.bench.BenchResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kv.KvDataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code worker.jar bench}: llama-bench's table for the CPU engine's forward pass on one model. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measures prompt processing (ppN), token generation (tgN) and batched decode of a GGUF model "
                + "with the CPU engine's kernels and prints a llama-bench-style table, the machine's copy bandwidth "
                + "and the decode limit it implies.",
                "Make the standard benchmark model with: worker.jar bench-model --type Q8_0 --out bench-q8_0.gguf"})
public final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "GGUF model")
    Path model;
    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "compute threads (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();
    @Option(names = {"-p", "--n-prompt"}, split = ",", paramLabel = "N", description = "prompt lengths (default: 128,512)")
    int[] prompts = {128, 512};
    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", description = "tokens to generate (default: 64)")
    int generate = 64;
    @Option(names = {"-b", "--batch"}, split = ",", paramLabel = "B", description = "decode batch sizes (default: 1,8,16)")
    int[] batches = {1, 8, 16};

    @Option(names = {"-d", "--n-depth"}, split = ",", paramLabel = "N",
            description = "context tokens already cached before pp and tg, as llama-bench's -d, and each sequence's prompt "
                    + "before batched decode, as llama-batched-bench's -npp (default: 0)")
    int[] depths = {0};
    @Option(names = {"-r", "--repetitions"}, paramLabel = "N", description = "repetitions of each test after a warm-up (default: 5)")
    int repetitions = 5;
    @Option(names = {"-w", "--warmup-seconds"}, paramLabel = "S",
            description = "run each test for at least this long before measuring, so that the JIT has compiled it "
                    + "(default: 2; pp512 on two cores took about 10 to reach its steady speed)")
    double warmupSeconds = 2;
    @Option(names = "--kv-dtype", paramLabel = "TYPE", description = "KV cache element type, f32 or f16 (default: f32, "
            + "the engine's default; llama-bench's is f16)")
    String kvType = "f32";
    @Option(names = "--kernels", paramLabel = "MODE", description = "auto, vector or scalar (default: auto)")
    String kernels = "auto";
    @Option(names = "--no-bandwidth", description = "skip the memory bandwidth measurement")
    boolean noBandwidth;
    @Option(names = "--json", description = "print one JSON object instead of the table (for comparison scripts)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(model)) {
            System.err.println("bench: no model file " + model);
            return 2;
        }
        if (threads < 1 || repetitions < 1 || generate < 0 || !(warmupSeconds >= 0) || Arrays.stream(prompts).anyMatch(p -> p < 1)
                || Arrays.stream(batches).anyMatch(b -> b < 1) || Arrays.stream(depths).anyMatch(d -> d < 0)) {
            System.err.println("bench: threads, repetitions, prompt lengths and batch sizes must be >= 1, generated tokens, depths and warm-up seconds >= 0");
            return 2;
        }
        KernelMode mode;
        try {
            mode = KernelMode.valueOf(kernels.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("bench: --kernels must be auto, vector or scalar, got '" + kernels + "'");
            return 2;
        }
        KvDataType kv;
        try {
            kv = KvDataType.valueOf(kvType.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("bench: --kv-dtype must be f32 or f16, got '" + kvType + "'");
            return 2;
        }
        BenchReport report = new Bench(model, threads, mode, prompts, generate, batches, depths, kv, repetitions, warmupSeconds,
                !noBandwidth).run(System.err);
        if (json) {
            System.out.println(toJson(report).encode());
        } else {
            System.out.println();
            System.out.print(report.table());
        }
        return 0;
    }

    /** The report as {@code {"model":…,"backend":…,"threads":…,"results":[{"test","batch","tps","stddev"}…]}}. */
    static JsonObject toJson(BenchReport report) {
        JsonArray results = new JsonArray();
        for (BenchResult r : report.results()) {
            results.add(new JsonObject().put("test", r.test()).put("batch", r.batch())
                    .put("tps", r.tokensPerSecond()).put("stddev", r.stddev()));
        }
        return new JsonObject().put("model", report.modelLabel()).put("file_bytes", report.fileBytes())
                .put("backend", report.backend()).put("threads", report.threads())
                .put("copy_bandwidth", report.copyBandwidth()).put("results", results);
    }
}
