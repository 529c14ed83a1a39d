package io.tandem.gateway.planner;

import io.tandem.gateway.slo.SloTargets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The planner's arithmetic and each branch of its verdict, on hand-computed examples (docs/PLANNER.md). */
class PlannerTest {
    private static final Planner PLANNER = new Planner(PlannerSettings.DEFAULTS);
    /** 10 000 prompt tokens/s per prefill worker; a decode step of 10 ms + 0.5 ms per stream. */
    private static final PoolRates POOL = new PoolRates(1, 1, 10_000, "prefill workers",
            new StepModel.Linear(10, 0.5, 20, 128), 0, 0);
    private static final SloTargets SLO = new SloTargets(1000, 50);

    /** λ = 10 requests/s over a minute, each with these token counts. */
    private static RequestMix mix(int prompt, int cached, int output) {
        return RequestMix.of(600, 60, 600L * prompt, 600L * cached, 600L * output);
    }

    @Test
    void longUncachedPromptsAreDisaggregatedAndEachPoolSizedByItsOwnDemand() {
        PlannerResult r = PLANNER.plan(mix(2000, 200, 100), POOL, SLO);
        assertTrue(r.disaggregate(), r.reason());
        assertTrue(r.reason().startsWith("long uncached prompts (1800 tokens"), r.reason());
        // prefill: S = 1800 / 10000 s = 180 ms; k = 1000/180 − 1 = 4.56, 2k/(1+2k) = 0.90 > 0.8 → ρ = 0.8
        assertEquals(180, r.sizing().prefillServiceMs(), 1e-9);
        assertEquals(0.8, r.sizing().prefillUtilisation(), 1e-9);
        assertEquals(10 * 1800 / (10_000 * 0.8), r.sizing().prefillWorkersExact(), 1e-9); // 2.25
        assertEquals(3, r.prefillWorkers());
        // decode: B = (50 − 10) / 0.5 = 80 streams at a 50 ms step; 10/s × 100 tokens × 0.05 s / (80 × 0.8) = 0.78
        assertEquals(80, r.sizing().decodeBatch());
        assertEquals(50, r.sizing().decodeStepMs(), 1e-9);
        assertEquals(0.78125, r.sizing().decodeWorkersExact(), 1e-9);
        assertEquals(1, r.decodeWorkers());
        assertEquals(2.25, r.prefillDemand(), 1e-9, "what the adapter adds up over gateways");
        assertEquals(0.78125, r.decodeDemand(), 1e-9);
        assertFalse(r.sloDefaulted());
        assertEquals(r.sizing().notes(), java.util.List.of());
    }

    @Test
    void aTightTtftTargetLowersThePrefillUtilisationSoQueueingFitsInIt() {
        PlannerResult r = PLANNER.plan(mix(2000, 200, 100), POOL, new SloTargets(300, 50));
        // k = 300/180 − 1 = 2/3; ρ = (4/3) / (7/3) = 4/7: M/D/1 wait ρS/(2(1−ρ)) = 120 ms, + S = 300 ms
        assertEquals(4.0 / 7, r.sizing().prefillUtilisation(), 1e-9);
        double s = r.sizing().prefillServiceMs(), rho = r.sizing().prefillUtilisation();
        assertEquals(300, s + rho * s / (2 * (1 - rho)), 1e-9);
        assertEquals(18_000 / (10_000 * 4.0 / 7), r.sizing().prefillWorkersExact(), 1e-9); // 3.15
        assertEquals(4, r.prefillWorkers());
    }

    @Test
    void moreOutputTokensMeanMoreDecodeWorkersAndTheSamePrefill() {
        PlannerResult r = PLANNER.plan(mix(2000, 200, 1000), POOL, SLO);
        assertEquals(7.8125, r.sizing().decodeWorkersExact(), 1e-9);
        assertEquals(8, r.decodeWorkers());
        assertEquals(3, r.prefillWorkers());
        // a tighter TPOT target: smaller batches, more workers (B = (20 − 10)/0.5 = 20 at 20 ms)
        PlannerResult tight = PLANNER.plan(mix(2000, 200, 1000), POOL, new SloTargets(1000, 20));
        assertEquals(20, tight.sizing().decodeBatch());
        assertEquals(10 * 1000 * 0.020 / (20 * 0.8), tight.sizing().decodeWorkersExact(), 1e-9); // 12.5
        assertEquals(13, tight.decodeWorkers());
    }

    @Test
    void shortUncachedPromptsAreNotDisaggregatedAndTheDecodeWorkersCarryThePrefillToo() {
        PlannerResult r = PLANNER.plan(mix(300, 0, 1000), POOL, SLO);
        assertFalse(r.disaggregate());
        assertTrue(r.reason().startsWith("short uncached prompts (300 tokens on average, below 512)"), r.reason());
        assertEquals(0, r.prefillWorkers());
        // prefill demand 10 × 300 / (10000 × 0.8) = 0.375 beside decode 7.8125: 8.19 → 9 workers that do both
        assertEquals(0.375, r.sizing().prefillWorkersExact(), 1e-9);
        assertEquals(9, r.decodeWorkers());
        assertEquals(0, r.prefillDemand());
        assertEquals(8.1875, r.decodeDemand(), 1e-9);
    }

    @Test
    void aHighPrefixHitRateIsNotDisaggregatedEvenWithLongPrompts() {
        PlannerResult r = PLANNER.plan(mix(10_000, 9_000, 100), POOL, SLO); // 1000 uncached, 90 % hits
        assertFalse(r.disaggregate());
        assertTrue(r.reason().startsWith("prefix-cache hit rate 90% (at least 80%)"), r.reason());
        assertEquals(0, r.prefillWorkers());
        assertEquals(Math.ceil(10 * 1000 / (10_000 * 0.8) + 0.78125), r.decodeWorkers()); // 1.25 + 0.78 → 3
        // just below the threshold it pays again
        assertTrue(PLANNER.plan(mix(10_000, 7_900, 100), POOL, SLO).disaggregate());
    }

    @Test
    void noTrafficIsTheMinimumOneDecodeWorker() {
        PlannerResult r = PLANNER.plan(RequestMix.empty(60), POOL, SLO);
        assertEquals(0, r.prefillWorkers());
        assertEquals(1, r.decodeWorkers());
        assertFalse(r.disaggregate());
        assertTrue(r.reason().startsWith("no request finished in the last 60 s"), r.reason());
    }

    @Test
    void unmeasuredRatesKeepThePoolsAsTheyAreAndSaySo() {
        PoolRates unmeasured = new PoolRates(2, 3, 0, "unmeasured", StepModel.UNMEASURED, 0, 0);
        PlannerResult r = PLANNER.plan(mix(2000, 0, 100), unmeasured, SLO);
        assertTrue(r.disaggregate());
        assertEquals(2, r.prefillWorkers());
        assertEquals(3, r.decodeWorkers());
        assertEquals(2, r.sizing().notes().size(), r.sizing().notes().toString());
        assertTrue(Double.isNaN(r.sizing().prefillWorkersExact()));
        assertTrue(Double.isNaN(r.prefillDemand()), "no demand to add up: the autoscaler holds");
        assertTrue(Double.isNaN(r.decodeDemand()));
    }

    @Test
    void withoutConfiguredSlosTheDocumentedDefaultsAreUsed() {
        PlannerResult r = PLANNER.plan(mix(2000, 200, 100), POOL, SloTargets.NONE);
        assertTrue(r.sloDefaulted());
        assertEquals(new SloTargets(2000, 100), r.slo());
        assertEquals(PlannerSettings.DEFAULTS.maxBatch(), 256);
        assertEquals(180, r.sizing().decodeBatch()); // (100 − 10) / 0.5
    }

    @Test
    void unattainableTargetsAreNamedInTheNotes() {
        PlannerResult r = PLANNER.plan(mix(2000, 200, 100), POOL, new SloTargets(150, 5));
        assertEquals(2, r.sizing().notes().size(), r.sizing().notes().toString());
        assertTrue(r.sizing().notes().get(0).contains("one mean prefill alone (180 ms)"), r.sizing().notes().get(0));
        assertTrue(r.sizing().notes().get(1).contains("decode step of one stream (10.5 ms)"), r.sizing().notes().get(1));
        assertEquals(0.8, r.sizing().prefillUtilisation(), 1e-9);
        assertEquals(1, r.sizing().decodeBatch());
    }

    @Test
    void theKvCacheCapsTheDecodeBatch() {
        // 1000 blocks of 16 tokens; a sequence holds ⌈(2000 + 100) / 16⌉ = 132 blocks → 7 streams, not 80
        PoolRates kv = new PoolRates(1, 1, 10_000, "prefill workers", new StepModel.Linear(10, 0.5, 20, 128), 1000, 16);
        PlannerResult r = PLANNER.plan(mix(2000, 200, 100), kv, SLO);
        assertEquals(7, r.sizing().decodeBatch());
        assertEquals(13.5, r.sizing().decodeStepMs(), 1e-9);
        assertEquals(10 * 100 * 0.0135 / (7 * 0.8), r.sizing().decodeWorkersExact(), 1e-9); // 2.41
        assertEquals(3, r.decodeWorkers());
    }
}
