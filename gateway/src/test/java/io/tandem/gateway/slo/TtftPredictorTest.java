package io.tandem.gateway.slo;

import io.tandem.protocol.WorkerLoad;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TtftPredictorTest {
    private static WorkerLoad load(int running, double prefillPerSecond, double stepMs) {
        return new WorkerLoad(running, 0, 0, 100, false, 0, prefillPerSecond, stepMs);
    }

    @Test
    void idleWorkerRunsOneStep() {
        // no decode step to wait for; one step: its fixed 6 ms and 1000 tokens at 50 000 tokens/s
        assertEquals(6 + 20.0, new TtftPredictor(8192).predictMillis(load(0, 50_000, 6), 0, 1000).orElseThrow(), 1e-9);
    }

    @Test
    void busyWorkerAddsTheStepInProgressAndTheDecodesOfEachChunk() {
        // 500 queued + 1500 own = 2000 tokens, 4 chunks of 512: 3 ms (half a step) + 4 × 6 ms + 40 ms
        double ms = new TtftPredictor(512).predictMillis(load(8, 50_000, 6), 500, 1500).orElseThrow();
        assertEquals(3 + 24 + 40, ms, 1e-9);
    }

    @Test
    void busyWorkerWithNothingQueuedWaitsHalfAStepThenPrefillsWithTheDecodes() {
        assertEquals(3 + 6 + 10, new TtftPredictor(8192).predictMillis(load(4, 50_000, 6), 0, 500).orElseThrow(), 1e-9);
    }

    @Test
    void moreQueuedOrUncachedTokensPredictLater() {
        TtftPredictor p = new TtftPredictor(8192);
        WorkerLoad l = load(4, 10_000, 5);
        assertTrue(p.predictMillis(l, 1000, 100).orElseThrow() > p.predictMillis(l, 0, 100).orElseThrow());
        assertTrue(p.predictMillis(l, 0, 1000).orElseThrow() > p.predictMillis(l, 0, 100).orElseThrow());
    }

    @Test
    void noPredictionBeforeTheWorkerMeasured() {
        assertTrue(new TtftPredictor(8192).predictMillis(new WorkerLoad(1, 0, 0, 10), 0, 10).isEmpty());
        assertTrue(new TtftPredictor(8192).predictMillis(null, 0, 10).isEmpty());
    }

    @Test
    void errorRatioIsRelativeToThePrediction() {
        assertEquals(1.5, TtftPredictor.errorRatio(150, 100), 1e-12);
        assertEquals(0.75, TtftPredictor.errorRatio(75, 100), 1e-12);
    }
}
