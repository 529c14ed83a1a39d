package io.tandem.gateway.planner;

import io.tandem.gateway.slo.SloTargets;

import java.util.List;

/**
 * A recommendation, with everything it was computed from so an operator can redo the arithmetic.
 *
 * @param prefillWorkers recommended prefill workers (0: do not disaggregate)
 * @param decodeWorkers  recommended decode workers (at least 1; aggregated, they prefill too)
 * @param disaggregate   whether prefill on workers of its own pays for this mix
 * @param reason         why, in words
 * @param mix            the arrival mix of the window
 * @param pool           the workers' measured rates
 * @param slo            the targets planned for
 * @param sloDefaulted   whether those are {@link PlannerSettings}' defaults (the gateway has none configured)
 * @param settings       the planner's constants
 * @param sizing         the intermediate numbers
 */
public record PlannerResult(int prefillWorkers, int decodeWorkers, boolean disaggregate, String reason, RequestMix mix,
                            PoolRates pool, SloTargets slo, boolean sloDefaulted, PlannerSettings settings, Sizing sizing) {

    /**
     * @param prefillServiceMs    one mean request's uncached prefill on one worker: uncached tokens / prefill rate
     *                            (NaN when not measured)
     * @param prefillUtilisation  the utilisation a prefill worker is sized at: the lower of the headroom and what keeps
     *                            queueing within the TTFT target
     * @param prefillWorkersExact λ × uncached tokens / (prefill rate × utilisation), before rounding up (NaN: unmeasured)
     * @param decodeBatch         streams one decode worker holds with its step within the TPOT target (0: unmeasured)
     * @param decodeStepMs        the modelled step time (= TPOT) at that batch
     * @param decodeWorkersExact  λ × output tokens × step time / (batch × headroom), before rounding up (NaN: unmeasured)
     * @param notes               what the operator should know: unattainable targets, unmeasured rates
     */
    public record Sizing(double prefillServiceMs, double prefillUtilisation, double prefillWorkersExact, int decodeBatch,
                         double decodeStepMs, double decodeWorkersExact, List<String> notes) {}

    /**
     * This gateway's share of the prefill workers, unrounded: what the gateways' demands add up to across replicas
     * (each sees only the requests it served). 0 when not disaggregating or idle; NaN while not measured.
     */
    public double prefillDemand() {
        return disaggregate ? sizing.prefillWorkersExact() : 0;
    }

    /** As {@link #prefillDemand()} for decode workers (not disaggregating, they carry the prefill demand too). */
    public double decodeDemand() {
        if (disaggregate) return sizing.decodeWorkersExact();
        double prefill = Double.isNaN(sizing.prefillWorkersExact()) ? 0 : sizing.prefillWorkersExact();
        return sizing.decodeWorkersExact() + prefill;
    }

    /** The prefill workers' share of the recommended workers. */
    public double prefillShare() {
        return (double) prefillWorkers / (prefillWorkers + decodeWorkers);
    }
}
