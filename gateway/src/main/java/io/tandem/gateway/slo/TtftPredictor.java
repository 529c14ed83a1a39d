package io.tandem.gateway.slo;

import io.tandem.protocol.WorkerLoad;

import java.util.OptionalDouble;

/**
 * Predicts the time to first token a request would get on a worker from its load report alone: the rates it measured
 * ({@link WorkerLoad#prefillTokensPerSecond()}, {@link WorkerLoad#decodeStepMillis()}) and the prompt tokens queued
 * ahead. {@link PrefillQueue} adds what the gateway knows better than the report (the step in progress, the prompts
 * sent since). Pure: no clock, no I/O.
 *
 * <p>The model follows Tandem's scheduler (engine {@code Scheduler}: decode first, then chunked prefill, oldest
 * first). A new request waits for the decode step in progress (half a step on average, when streams run), then its
 * prompt is computed after the prompts queued ahead of it, at most {@code chunk} prompt tokens per step; every step
 * pays a decode step's fixed cost. Its first token comes at the end of the step that computes its last prompt token:
 * <pre>
 *   tokens = queued + uncached
 *   ttft   = (streams running ? decodeStep / 2 : 0)  +  ceil(tokens / chunk) × decodeStep  +  tokens / prefillRate
 * </pre>
 * The queue counts whole prompts (their cached prefixes are not known yet): that errs late, the safe side for admission.
 *
 * @param chunkTokens prompt tokens a step computes at most ({@code max_num_batched_tokens} less the decodes)
 */
public record TtftPredictor(int chunkTokens) {
    /** The simulated engine's step budget, and a CUDA-class engine's typical one. */
    public static final int DEFAULT_CHUNK_TOKENS = 8192;

    public TtftPredictor {
        if (chunkTokens < 1) throw new IllegalArgumentException("chunk tokens must be >= 1, got " + chunkTokens);
    }

    /**
     * @param load           the worker's last load report (its measured rates)
     * @param queuedTokens   prompt tokens ahead of this request on the worker
     * @param uncachedTokens this request's prompt tokens not in the worker's prefix cache
     * @return the predicted TTFT in ms, empty when the worker has not measured its rates yet
     */
    public OptionalDouble predictMillis(WorkerLoad load, long queuedTokens, long uncachedTokens) {
        if (load == null || !load.measured()) return OptionalDouble.empty();
        long tokens = Math.max(0, queuedTokens) + Math.max(1, uncachedTokens); // a fully cached prompt still computes one
        double inProgress = load.runningRequests() > 0 ? load.decodeStepMillis() / 2 : 0; // the decode step running now
        return OptionalDouble.of(inProgress + stepMillis(load, tokens));
    }

    /**
     * How long the steps computing {@code promptTokens} prompt tokens (in chunks) take, in ms:
     * {@code ceil(tokens / chunk) × decodeStep + tokens / prefillRate} — every step pays a decode step's fixed cost (the
     * worker measures its prefill rate with that cost taken off). The worker must have measured its rates.
     */
    public double stepMillis(WorkerLoad load, long promptTokens) {
        long tokens = Math.max(1, promptTokens);
        long steps = (tokens + chunkTokens - 1) / chunkTokens;
        return steps * load.decodeStepMillis() + tokens * 1000.0 / load.prefillTokensPerSecond();
    }

    /** What {@code tandem_slo_ttft_actual_to_predicted_percent} records (in percent): actual / predicted (1 is exact). */
    public static double errorRatio(double actualMs, double predictedMs) {
        return actualMs / predictedMs;
    }
}
