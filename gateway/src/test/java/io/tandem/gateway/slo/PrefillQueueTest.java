package io.tandem.gateway.slo;

import io.tandem.protocol.WorkerLoad;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class PrefillQueueTest {
    private static final long MS = 1_000_000;
    /** 10 000 prompt tokens/s (0.1 ms each), 4 ms decode steps, streams running. */
    private static final WorkerLoad BUSY = new WorkerLoad(3, 0, 0, 100, false, 0, 10_000, 4);
    private static final WorkerLoad IDLE = new WorkerLoad(0, 0, 0, 100, false, 0, 10_000, 4);

    private static PrefillQueue queue() {
        return new PrefillQueue(new TtftPredictor(8192));
    }

    @Test
    void aPromptSentToAnIdleQueueStartsAStep() {
        // half a decode step in progress, then one step: its fixed cost and 1000 tokens
        assertEquals(2 + 4 + 100, queue().sent("a", BUSY, 1000, 0).orElseThrow(), 1e-9);
        assertEquals(4 + 100, queue().sent("a", IDLE, 1000, 0).orElseThrow(), 1e-9);
    }

    @Test
    void aPromptSentDuringAStepWaitsForItsRemainderThenJoinsTheNextWithTheOthersSentMeanwhile() {
        PrefillQueue q = queue();
        q.sent("a", IDLE, 1000, 0); // step 1 ends at 104 ms
        // b at 40 ms: 64 ms left, then a step of its 500 tokens and those expected to arrive meanwhile (a's 1000 tokens
        // over the arrival window, decayed)
        double windowMs = PrefillQueue.ARRIVAL_WINDOW_NANOS / 1e6;
        double arriving = Math.round(1000 * Math.exp(-40 / windowMs) / windowMs * 64);
        assertEquals(64 + 4 + (500 + arriving) / 10, q.sent("b", IDLE, 500, 40 * MS).orElseThrow(), 1e-6);
        // c, 10 ms later: 54 ms left of a's step; b's and c's prompts in the next; plus the arrivals expected meanwhile
        double c = q.predictMillis(IDLE, 500, 50 * MS).orElseThrow();
        assertTrue(c > 54 + 4 + 100 && c < 54 + 4 + 100 + 40, "c: " + c);
    }

    @Test
    void theFirstTokenOfAStepStartsTheNextAtOnce() {
        PrefillQueue q = queue();
        q.sent("a", IDLE, 1000, 0);
        q.sent("b", IDLE, 500, 40 * MS);
        q.done("a", 80 * MS); // the engine was faster than predicted: b's step started at 80 ms and takes 54
        double c = q.predictMillis(IDLE, 200, 90 * MS).orElseThrow();
        assertTrue(c >= 44 + 4 + 20 && c < 44 + 4 + 20 + 25, "c waits b's 44 ms left, then its own 24: " + c);
        q.done("b", 130 * MS);
        assertTrue(q.isEmpty());
        assertEquals(24, q.predictMillis(IDLE, 200, 10_000 * MS).orElseThrow(), 1e-9, "idle again, no arrivals lately");
    }

    @Test
    void anAttemptThatEndsWithoutAFirstTokenLeavesTheQueueToo() {
        PrefillQueue q = queue();
        q.sent("a", IDLE, 1000, 0);
        q.done("a", MS);
        assertEquals(0, q.pendingTokens());
        q.done("a", 2 * MS); // twice, or unknown: nothing
        q.done("zzz", 2 * MS);
        assertEquals(0, q.pendingTokens());
    }

    @Test
    void otherGatewaysPromptsCountFromTheWorkersReport() {
        WorkerLoad crowded = new WorkerLoad(0, 3, 0, 100, false, 3000, 10_000, 4);
        // 3000 tokens queued by others, none by us: they compute first
        assertEquals(4 + 300 + 100, queue().predictMillis(crowded, 1000, 0).orElseThrow(), 1e-9);
    }

    @Test
    void noPredictionBeforeTheWorkerMeasured() {
        assertTrue(queue().predictMillis(new WorkerLoad(0, 0, 0, 100), 100, 0).isEmpty());
        assertTrue(queue().sent("a", null, 100, 0).isEmpty());
    }
}
