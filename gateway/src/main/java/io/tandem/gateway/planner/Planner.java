package io.tandem.gateway.planner;

import io.tandem.gateway.slo.SloTargets;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Sizes the prefill and decode pools for the observed load, after Dynamo Planner's throughput mode: each pool gets
 * the demand of its phase divided by what one worker of it delivers within the SLOs (docs/PLANNER.md):
 * <pre>
 *   prefill = ⌈ λ × U / (P × ρ) ⌉      ρ = min(headroom, 2k / (1 + 2k)),  k = TTFT / S − 1,  S = U / P
 *   decode  = ⌈ λ × O × step(B) / (B × headroom) ⌉   B = the largest batch with step(B) ≤ TPOT
 * </pre>
 * with λ the arrival rate, U the mean uncached prompt tokens, O the mean output tokens, P a prefill worker's measured
 * tokens per second and step(b) a decode worker's measured step time at batch b. ρ is the utilisation at which an
 * M/D/1 queue's wait plus the service time S stay within the TTFT target. Not disaggregating (short uncached prompts,
 * a high prefix hit rate), the decode workers also prefill: their count covers both demands and prefill is 0. Pure.
 */
public final class Planner {
    private final PlannerSettings settings;

    public Planner(PlannerSettings settings) {
        this.settings = settings;
    }

    public PlannerResult plan(RequestMix mix, PoolRates pool, SloTargets configured) {
        boolean defaulted = !configured.hasTtft() || !configured.hasTpot();
        SloTargets slo = new SloTargets(configured.hasTtft() ? configured.ttftMs() : settings.defaultTtftMs(),
                configured.hasTpot() ? configured.tpotMs() : settings.defaultTpotMs());
        List<String> notes = new ArrayList<>();
        double lambda = mix.requestsPerSecond(), u = mix.meanUncachedPromptTokens(), o = mix.meanOutputTokens();

        double serviceMs = Double.NaN, utilisation = settings.maxUtilisation(), prefillExact = Double.NaN;
        if (mix.idle()) {
            prefillExact = 0;
        } else if (pool.prefillTokensPerSecond() > 0) {
            serviceMs = u / pool.prefillTokensPerSecond() * 1000;
            if (serviceMs >= slo.ttftMs()) {
                notes.add(fmt("the TTFT target (%.0f ms) is shorter than one mean prefill alone (%.0f ms): no number of"
                        + " workers meets it; prefill sized at the headroom", slo.ttftMs(), serviceMs));
            } else if (serviceMs > 0) {
                double k = slo.ttftMs() / serviceMs - 1;
                utilisation = Math.min(utilisation, 2 * k / (1 + 2 * k));
            }
            prefillExact = lambda * u / (pool.prefillTokensPerSecond() * utilisation);
        } else {
            notes.add("no worker has measured its prefill rate yet: prefill workers kept as they are");
        }

        int batch = 0;
        double stepMs = Double.NaN, decodeExact = Double.NaN;
        if (mix.idle()) {
            decodeExact = 0;
        } else if (pool.decodeStep().measured()) {
            batch = pool.decodeStep().maxBatchWithin(slo.tpotMs(), batchCap(mix, pool));
            stepMs = pool.decodeStep().stepMillis(batch);
            if (stepMs > slo.tpotMs()) {
                notes.add(fmt("the TPOT target (%.0f ms) is shorter than a decode step of one stream (%.1f ms): no number"
                        + " of workers meets it", slo.tpotMs(), stepMs));
            }
            decodeExact = lambda * o * stepMs / 1000 / (batch * settings.maxUtilisation());
        } else {
            notes.add("no decode worker has measured its step time yet: decode workers kept as they are");
        }

        Verdict verdict = verdict(mix);
        int prefill, decode;
        if (verdict.disaggregate()) {
            prefill = Double.isNaN(prefillExact) ? Math.max(1, pool.prefillWorkers()) : Math.max(1, up(prefillExact));
            decode = Double.isNaN(decodeExact) ? Math.max(1, pool.decodeWorkers()) : Math.max(1, up(decodeExact));
        } else {
            prefill = 0;
            if (Double.isNaN(decodeExact)) {
                decode = Math.max(1, pool.decodeWorkers());
            } else {
                decode = Math.max(1, up(decodeExact + (Double.isNaN(prefillExact) ? 0 : prefillExact)));
            }
        }
        return new PlannerResult(prefill, decode, verdict.disaggregate(), verdict.reason(), mix, pool, slo, defaulted,
                settings, new PlannerResult.Sizing(serviceMs, utilisation, prefillExact, batch, stepMs, decodeExact,
                List.copyOf(notes)));
    }

    private record Verdict(boolean disaggregate, String reason) {}

    private Verdict verdict(RequestMix mix) {
        if (mix.idle()) {
            return new Verdict(false, fmt("no request finished in the last %.0f s: the minimum, one decode worker",
                    mix.windowSeconds()));
        }
        if (mix.meanUncachedPromptTokens() < settings.shortPromptTokens()) {
            return new Verdict(false, fmt("short uncached prompts (%.0f tokens on average, below %d): a prefill that short"
                            + " stalls decodes for about one step, less than a remote prefill adds to every first token;"
                            + " decode workers prefill locally", mix.meanUncachedPromptTokens(), settings.shortPromptTokens()));
        }
        if (mix.prefixHitRate() >= settings.highPrefixHitRate()) {
            return new Verdict(false, fmt("prefix-cache hit rate %.0f%% (at least %.0f%%): most of each prompt is already"
                            + " in the decode worker's cache, remote prefill does not pay; decode workers prefill locally",
                    100 * mix.prefixHitRate(), 100 * settings.highPrefixHitRate()));
        }
        return new Verdict(true, fmt("long uncached prompts (%.0f tokens on average, at least %d) at a %.0f%% prefix hit"
                        + " rate: prefill workers keep the prefill chunks out of the decode batches",
                mix.meanUncachedPromptTokens(), settings.shortPromptTokens(), 100 * mix.prefixHitRate()));
    }

    /** The batch a decode worker can hold: the settings' cap, and its KV cache at the mean prompt + output. */
    private int batchCap(RequestMix mix, PoolRates pool) {
        int cap = settings.maxBatch();
        if (pool.kvBlocksPerWorker() > 0 && pool.blockSize() > 0) {
            long perSequence = (long) Math.ceil((mix.meanPromptTokens() + mix.meanOutputTokens()) / pool.blockSize());
            if (perSequence > 0) cap = (int) Math.max(1, Math.min(cap, pool.kvBlocksPerWorker() / perSequence));
        }
        return cap;
    }

    /** Rounds up, ignoring floating-point dust (2.0000000001 workers are 2). */
    private static int up(double workers) {
        return (int) Math.ceil(workers - 1e-9);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
