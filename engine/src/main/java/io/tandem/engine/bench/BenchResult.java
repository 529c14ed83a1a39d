package io.tandem.engine.bench;

/**
 * One measured row: {@code tokensPerSecond} mean and standard deviation over the repetitions.
 *
 * @param test  llama-bench's names: {@code pp512} (prefill 512 tokens in one batch), {@code tg64} (generate 64
 *              tokens one at a time), and {@code tg64@b16} (16 sequences decoding 64 steps together; aggregate)
 * @param batch sequences decoding together (1 for pp and tg)
 */
public record BenchResult(String test, int batch, double tokensPerSecond, double stddev) {

    static BenchResult of(String test, int batch, double[] rates) {
        double mean = 0;
        for (double r : rates) mean += r;
        mean /= rates.length;
        double var = 0;
        for (double r : rates) var += (r - mean) * (r - mean);
        double sd = rates.length > 1 ? Math.sqrt(var / (rates.length - 1)) : 0;
        return new BenchResult(test, batch, mean, sd);
    }
}
