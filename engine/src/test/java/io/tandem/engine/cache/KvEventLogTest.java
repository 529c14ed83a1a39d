package io.tandem.engine.cache;

import io.tandem.protocol.kv.KvEvent;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class KvEventLogTest {
    private final EventReplay replay = new EventReplay();
    private long now = 1000;
    private final KvEventLog log = new KvEventLog("worker-7", replay, () -> now);

    @Test
    void chainedStoresAndEvictionsCoalesceInOrder() {
        log.stored(1, 0);
        log.stored(2, 1); // extends the chain
        log.stored(9, 5); // another chain
        log.removed(1);
        log.removed(2);
        log.stored(3, 2);
        assertTrue(log.flush());
        assertEquals(List.of(
                new KvEvent.BlocksStored(new long[] {1, 2}, 0),
                new KvEvent.BlocksStored(new long[] {9}, 5),
                new KvEvent.BlocksRemoved(new long[] {1, 2}),
                new KvEvent.BlocksStored(new long[] {3}, 2)), replay.batches.getFirst().events());
        assertEquals(1000, replay.batches.getFirst().timestampMillis());
        assertEquals("worker-7", replay.batches.getFirst().workerId());
    }

    @Test
    void sequenceNumbersCountPublishedBatches() {
        assertFalse(log.flush(), "an empty flush publishes nothing and uses no number");
        log.stored(1, 0);
        now = 2000;
        log.flush();
        log.removed(1);
        log.flush();
        assertEquals(2, log.nextSeq());
        assertEquals(List.of(0L, 1L), replay.batches.stream().map(b -> b.seq()).toList());
        assertEquals(2000, replay.batches.getFirst().timestampMillis());
    }

    @Test
    void aClearSupersedesWhatIsPending() {
        log.stored(1, 0);
        log.flush();
        log.stored(2, 1);
        log.removed(1);
        log.cleared();
        log.stored(5, 0);
        log.flush();
        assertEquals(List.of(new KvEvent.AllBlocksCleared(), new KvEvent.BlocksStored(new long[] {5}, 0)),
                replay.batches.getLast().events());
        assertEquals(java.util.Set.of(5L), replay.hashes);
    }

    @Test
    void aForgottenFlushCannotGrowTheLogUnbounded() {
        for (int i = 0; i < KvEventLog.AUTO_FLUSH_HASHES * 2 + 5; i++) log.stored(i + 1, i);
        assertEquals(2, replay.batches.size());
        assertTrue(log.hasPending());
        log.flush();
        assertEquals(KvEventLog.AUTO_FLUSH_HASHES * 2 + 5, replay.hashes.size());
    }
}
