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
    void refusedRequestsAreDemandToo() {
        AtomicLong now = new AtomicLong(1_000_000);
        ArrivalWindow w = new ArrivalWindow(Duration.ofSeconds(60), 60, now::get);
        now.addAndGet(60_000);
        for (int i = 0; i < 60; i++) w.record(1000, 500, 40); // 1 per second served, half of each prompt cached
        for (int i = 0; i < 60; i++) w.refused(2000);         // 1 per second refused (429 / 503)
        RequestMix mix = w.mix();
        assertEquals(120, mix.requests());
        assertEquals(2.0, mix.requestsPerSecond(), 0.05, "a pool that refuses half its load needs twice its size");
        assertEquals(1500, mix.meanPromptTokens(), 1e-9);
        assertEquals((500 + 1000) / 2.0, mix.meanUncachedPromptTokens(), 1e-9, "refused prompts hit the cache as often");
        assertEquals(0.5, mix.prefixHitRate(), 1e-9);
        assertEquals(40, mix.meanOutputTokens(), 1e-9, "the output of the served ones");
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
    void theStepFitIsLinearOverBatchesThatVaryAndAnOperatingPointOverASteadyOne() {
        DecodeStepFit fit = new DecodeStepFit(60_000);
        assertFalse(fit.model(0).measured());
        fit.add(0, 4, 12);
        StepModel.OperatingPoint one = assertInstanceOf(StepModel.OperatingPoint.class, fit.model(0));
        assertEquals(6, one.stepMillis(2), 1e-9, "proportional below the point");
        assertEquals(12, one.stepMillis(8), 1e-9, "flat above it");
        assertEquals(8, one.maxBatchWithin(30, 256), "within the target: up to twice the largest batch seen");
        assertEquals(3, one.maxBatchWithin(9, 256), "slower than the target: the batch that brings it down");
        assertEquals(5, one.maxBatchWithin(30, 5), "capped");

        for (int b : new int[] {1, 8, 16, 32}) fit.add(1000, b, 10 + 0.5 * b);
        StepModel.Linear line = assertInstanceOf(StepModel.Linear.class, fit.model(1000));
        assertEquals(10, line.fixedMs(), 1e-9);
        assertEquals(0.5, line.perSequenceMs(), 1e-9);
        assertEquals(32, line.largestBatch());
        assertEquals(40, line.maxBatchWithin(30, 256));
        assertEquals(64, line.maxBatchWithin(50, 256), "80 by the line, but extrapolated at most to twice 32 streams");
        assertEquals(20, line.maxBatchWithin(50, 20), "capped");
        assertEquals(0, fit.model(70_000).samples(), "reports older than the window are forgotten");

        DecodeStepFit narrow = new DecodeStepFit(60_000);
        narrow.add(0, 15, 8.3);
        narrow.add(0, 16, 8.0); // a falling "line" over 15..17 streams is noise: one operating point
        narrow.add(0, 17, 8.1);
        StepModel.OperatingPoint point = assertInstanceOf(StepModel.OperatingPoint.class, narrow.model(0));
        assertEquals(16, point.batch(), 1e-9);
        assertEquals(24.4 / 3, point.stepMs(), 1e-9);
        DecodeStepFit falling = new DecodeStepFit(60_000);
        falling.add(0, 1, 8);
        falling.add(0, 16, 7.5); // wide, but the step falls with the batch: no line to trust
        assertInstanceOf(StepModel.OperatingPoint.class, falling.model(0));
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
