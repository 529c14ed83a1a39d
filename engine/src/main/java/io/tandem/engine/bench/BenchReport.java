package io.tandem.engine.bench;

import java.util.List;
import java.util.Locale;

/**
 * Everything one bench run measured, and its rendering as a llama-bench-style markdown table.
 *
 * @param modelLabel      e.g. {@code llama 124.7M Q8_0}
 * @param fileBytes       size of the GGUF file
 * @param parameters      parameter count
 * @param backend         which kernels ran (Vector API or scalar)
 * @param threads         compute threads
 * @param openMillis      time to open the model and be ready to compute (weights are mapped, not read)
 * @param weightBytesPerToken bytes of weights one decode step reads
 * @param copyBandwidth   measured copy bandwidth (bytes/s, reads + writes), 0 if not measured
 * @param results         the rows, prefill and generation first, then batched decode
 */
public record BenchReport(String modelLabel, long fileBytes, long parameters, String backend, int threads,
                          double openMillis, long weightBytesPerToken, double copyBandwidth, List<BenchResult> results) {

    /** Decode speed if every weight byte had to cross memory at the measured bandwidth once per token. */
    public double bandwidthLimitTokensPerSecond() {
        return copyBandwidth / weightBytesPerToken;
    }

    public String table() {
        StringBuilder b = new StringBuilder();
        b.append("| model | size | params | backend | threads | test | t/s |\n");
        b.append("| --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
        for (BenchResult r : results) {
            if (r.batch() > 1) continue;
            b.append(String.format(Locale.ROOT, "| %s | %.2f MiB | %.2f M | %s | %d | %s | %.2f ± %.2f |%n", modelLabel,
                    fileBytes / 1048576.0, parameters / 1e6, backend, threads, r.test(), r.tokensPerSecond(), r.stddev()));
        }
        if (results.stream().anyMatch(r -> r.batch() > 1)) {
            b.append("\n| batched decode | sequences | t/s (aggregate) | t/s per sequence | vs batch 1 |\n");
            b.append("| ---: | ---: | ---: | ---: | ---: |\n");
            for (BenchResult r : results) {
                if (r.batch() <= 1) continue;
                // against tg at the same depth
                double single = results.stream()
                        .filter(s -> s.batch() == 1 && s.test().startsWith("tg"))
                        .filter(s -> depth(s.test()).equals(depth(r.test())))
                        .mapToDouble(BenchResult::tokensPerSecond)
                        .findFirst().orElse(Double.NaN);
                String speedup = Double.isNaN(single) ? "—" // batch 1 not measured in this run
                        : String.format(Locale.ROOT, "%.2fx", r.tokensPerSecond() / single);
                b.append(String.format(Locale.ROOT, "| %s | %d | %.2f ± %.2f | %.2f | %s |%n", r.test(), r.batch(),
                        r.tokensPerSecond(), r.stddev(), r.tokensPerSecond() / r.batch(), speedup));
            }
        }
        b.append(String.format(Locale.ROOT, "%nready to compute in %.0f ms (weights mapped, not read)%n", openMillis));
        if (copyBandwidth > 0) {
            b.append(String.format(Locale.ROOT,
                    "memory: copy bandwidth %.1f GB/s (%d threads, reads + writes); %.1f MB of weights read per token "
                            + "-> decode limit %.1f t/s at batch 1%n",
                    copyBandwidth / 1e9, threads, weightBytesPerToken / 1e6, bandwidthLimitTokensPerSecond()));
        }
        return b.toString();
    }

    /** A test name's depth suffix ({@code " @ d256"}), empty at depth 0. */
    private static String depth(String test) {
        int at = test.indexOf(" @ d");
        return at < 0 ? "" : test.substring(at);
    }
}
