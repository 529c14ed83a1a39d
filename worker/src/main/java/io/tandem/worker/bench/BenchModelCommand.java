package io.tandem.worker.bench;

import io.tandem.engine.bench.BenchModel;
import io.tandem.model.gguf.GgufTensorType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code worker.jar bench-model}: writes the 124.7 M-parameter benchmark model with Tandem's GGUF writer. */
@Command(name = "bench-model", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Writes the benchmark model (llama, n_embd 768, 12 layers, 12 heads, 4 KV heads, n_ff 2048, "
                + "context 2048, 124.7 M random weights) with the 32000-piece vocabulary of testdata/models/tiny-llama-spm-f32.gguf.")
public final class BenchModelCommand implements Callable<Integer> {
    @Option(names = "--type", paramLabel = "TYPE", description = "F32, F16, Q8_0 or Q4_0 (default: Q8_0)")
    String type = "Q8_0";
    @Option(names = "--out", required = true, paramLabel = "PATH", description = "GGUF file to write")
    Path out;
    @Option(names = "--vocab", paramLabel = "PATH", description = "GGUF file whose tokenizer to copy (default: testdata/models/tiny-llama-spm-f32.gguf)")
    Path vocab = Path.of("testdata", "models", "tiny-llama-spm-f32.gguf");

    @Override
    public Integer call() throws Exception {
        GgufTensorType t;
        try {
            t = GgufTensorType.valueOf(type.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("bench-model: unknown type " + type + " (F32, F16, Q8_0, Q4_0)");
            return 2;
        }
        long bytes = BenchModel.write(out, t, vocab);
        System.out.printf("wrote %s (%.1f MiB)%n", out, bytes / 1048576.0);
        return 0;
    }
}
