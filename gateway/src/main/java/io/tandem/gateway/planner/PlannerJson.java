package io.tandem.gateway.planner;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** {@code GET /v1/planner}'s body: the recommendation, the verdict and every number it came from (docs/PLANNER.md). */
public final class PlannerJson {
    private PlannerJson() {}

    public static JsonObject of(PlannerResult r) {
        RequestMix mix = r.mix();
        PoolRates pool = r.pool();
        StepModel step = pool.decodeStep();
        PlannerResult.Sizing s = r.sizing();
        PlannerSettings settings = r.settings();
        return new JsonObject()
                .put("object", "planner.recommendation")
                .put("recommended", new JsonObject().put("prefill", r.prefillWorkers()).put("decode", r.decodeWorkers()))
                .put("demand", new JsonObject().put("prefill", num(r.prefillDemand())).put("decode", num(r.decodeDemand())))
                .put("disaggregate", r.disaggregate())
                .put("layout", r.disaggregate() ? r.prefillWorkers() + "P" + r.decodeWorkers() + "D"
                        : r.decodeWorkers() + " aggregated")
                .put("reason", r.reason())
                .put("notes", new JsonArray(r.sizing().notes()))
                .put("slo", new JsonObject().put("ttft_ms", num(r.slo().ttftMs())).put("tpot_ms", num(r.slo().tpotMs()))
                        .put("defaulted", r.sloDefaulted()))
                .put("inputs", new JsonObject()
                        .put("window_seconds", num(mix.windowSeconds()))
                        .put("requests", mix.requests())
                        .put("requests_per_second", num(mix.requestsPerSecond()))
                        .put("mean_prompt_tokens", num(mix.meanPromptTokens()))
                        .put("mean_uncached_prompt_tokens", num(mix.meanUncachedPromptTokens()))
                        .put("prefix_hit_rate", num(mix.prefixHitRate()))
                        .put("mean_output_tokens", num(mix.meanOutputTokens()))
                        .put("workers", new JsonObject().put("prefill", pool.prefillWorkers()).put("decode", pool.decodeWorkers()))
                        .put("prefill_tokens_per_second", num(pool.prefillTokensPerSecond()))
                        .put("prefill_rate_from", pool.prefillRateFrom())
                        .put("decode_step", step(step))
                        .put("kv_blocks_per_worker", pool.kvBlocksPerWorker())
                        .put("block_size", pool.blockSize()))
                .put("sizing", new JsonObject()
                        .put("prefill_service_ms", num(s.prefillServiceMs()))
                        .put("prefill_utilisation", num(s.prefillUtilisation()))
                        .put("prefill_workers_exact", num(s.prefillWorkersExact()))
                        .put("decode_batch", s.decodeBatch())
                        .put("decode_step_ms", num(s.decodeStepMs()))
                        .put("decode_workers_exact", num(s.decodeWorkersExact())))
                .put("settings", new JsonObject()
                        .put("max_utilisation", settings.maxUtilisation())
                        .put("short_prompt_tokens", settings.shortPromptTokens())
                        .put("high_prefix_hit_rate", settings.highPrefixHitRate())
                        .put("max_batch", settings.maxBatch()));
    }

    private static JsonObject step(StepModel model) {
        return switch (model) {
            case StepModel.Unmeasured u -> new JsonObject().put("model", "unmeasured");
            case StepModel.Linear l -> new JsonObject().put("model", "linear").put("fixed_ms", num(l.fixedMs()))
                    .put("per_sequence_ms", num(l.perSequenceMs())).put("samples", l.samples())
                    .put("largest_batch", l.largestBatch());
            case StepModel.OperatingPoint p -> new JsonObject().put("model", "operating_point")
                    .put("batch", num(p.batch())).put("step_ms", num(p.stepMs())).put("samples", p.samples())
                    .put("largest_batch", p.largestBatch());
        };
    }

    /** Rounded for reading (1e-4), null when not measured (JSON has no NaN). */
    private static Double num(double v) {
        return Double.isFinite(v) ? Math.round(v * 10_000) / 10_000.0 : null;
    }
}
