package io.tandem.gateway.planner;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRole;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** The planner's inputs: the sliding arrival window, the decode step fit and the pool's aggregate. */
class PlannerWindowTest {

    @Test
    void theWindowSlidesAndItsMixIsTheMeansOfWhatFinishedInIt() {
        AtomicLong now = new AtomicLong(1_000_000);
        ArrivalWindow w = new ArrivalWindow(Duration.ofSeconds(60), 60, now::get);
        assertTrue(w.mix().idle());
        now.addAndGet(60_000);
        for (int i = 0; i < 120; i++) w.record(1000, 250, 50); // 2 per second for a minute
        RequestMix mix = w.mix();
        assertEquals(120, mix.requests());
        assertEquals(2.0, mix.requestsPerSecond(), 0.05);
        assertEquals(1000, mix.meanPromptTokens(), 1e-9);
        assertEquals(750, mix.meanUncachedPromptTokens(), 1e-9);
        assertEquals(0.25, mix.prefixHitRate(), 1e-9);
        assertEquals(50, mix.meanOutputTokens(), 1e-9);
        now.addAndGet(30_000);
        w.record(100, 0, 500);
        assertEquals(121, w.mix().requests(), "30 s later both are in the window");
        now.addAndGet(31_000);
        RequestMix later = w.mix();
        assertEquals(1, later.requests(), "the first ones left the window, the last one stays");
        assertEquals(500, later.meanOutputTokens(), 1e-9);
        now.addAndGet(60_000);
        assertTrue(w.mix().idle());
    }

    @Test
    void aYoungWindowDividesByItsAgeNotTheWholeWindow() {
        AtomicLong now = new AtomicLong(5_000);
        ArrivalWindow w = new ArrivalWindow(Duration.ofSeconds(60), 60, now::get);
        now.addAndGet(10_000);
        for (int i = 0; i < 50; i++) w.record(10, 0, 10);
        assertEquals(10, w.mix().windowSeconds(), 1e-9);
        assertEquals(5, w.mix().requestsPerSecond(), 1e-9);
    }

    @Test
    void theStepFitIsLinearOverSeveralBatchSizesAndSafeOverOne() {
        DecodeStepFit fit = new DecodeStepFit(60_000);
        assertFalse(fit.model(0).measured());
        fit.add(0, 4, 12);
        StepModel one = fit.model(0);
        assertEquals("proportional", one.method());
        assertEquals(3, one.stepMillis(1), 1e-9);
        assertEquals(10, one.maxBatchWithin(30, 256), "step ∝ batch: 3 ms a stream");
        for (int b : new int[] {1, 8, 16, 32}) fit.add(1000, b, 10 + 0.5 * b);
        fit.add(1000, 4, 12);
        StepModel line = fit.model(1000);
        assertEquals("linear fit", line.method());
        assertEquals(10, line.fixedMs(), 1e-9);
        assertEquals(0.5, line.perSequenceMs(), 1e-9);
        assertEquals(80, line.maxBatchWithin(50, 256));
        assertEquals(20, line.maxBatchWithin(50, 20), "capped");
        assertEquals(0, fit.model(70_000).samples(), "reports older than the window are forgotten");
        fit.add(0, 1, 8);
        fit.add(0, 16, 7.5);
        assertEquals("flat", fit.model(0).method());
        assertEquals(256, fit.model(0).maxBatchWithin(50, 256));
    }

    @Test
    void thePoolCountsRolesAveragesMeasuredRatesAndLearnsEachReportOnce() {
        PoolObserver pool = new PoolObserver(60_000);
        WorkerLoad prefilling = new WorkerLoad(1, 0, 10, 100, false, 500, 8000, 0);
        WorkerLoad decoding = new WorkerLoad(8, 0, 40, 1000, false, 0, 2000, 14);
        List<WorkerReport> reports = List.of(
                new WorkerReport("p1", WorkerRole.PREFILL, prefilling, 1, 16),
                new WorkerReport("p2", WorkerRole.PREFILL, new WorkerLoad(0, 0, 0, 100, false, 0, 12000, 0), 1, 16),
                new WorkerReport("p3", WorkerRole.PREFILL, WorkerLoad.IDLE.asDraining(), 1, 16),
                new WorkerReport("d1", WorkerRole.DECODE, decoding, 1, 16),
                new WorkerReport("d2", WorkerRole.BOTH, new WorkerLoad(0, 0, 0, 3000, false, 0, 0, 0), 1, 16));
        PoolRates rates = pool.observe(0, reports);
        assertEquals(2, rates.prefillWorkers(), "a draining worker is on its way out");
        assertEquals(2, rates.decodeWorkers());
        assertEquals(10_000, rates.prefillTokensPerSecond(), 1e-9, "the prefill workers' mean");
        assertEquals("prefill workers", rates.prefillRateFrom());
        assertEquals(2000, rates.kvBlocksPerWorker());
        assertEquals(16, rates.blockSize());
        assertEquals(1, rates.decodeStep().samples(), "an idle worker's step says nothing about a batch");
        assertEquals(1, pool.observe(10, reports).decodeStep().samples(), "the same heartbeat is not learnt twice");
        List<WorkerReport> next = List.of(new WorkerReport("d1", WorkerRole.DECODE, decoding, 2, 16));
        PoolRates after = pool.observe(20, next);
        assertEquals(2, after.decodeStep().samples());
        assertEquals(2000, after.prefillTokensPerSecond(), 1e-9, "no prefill worker measured: every worker's mean");
        assertEquals("all workers", after.prefillRateFrom());
    }
}
