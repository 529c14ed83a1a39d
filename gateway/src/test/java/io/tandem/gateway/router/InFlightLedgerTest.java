package io.tandem.gateway.router;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class InFlightLedgerTest {

    @Test
    void countsOwnRequestsAndBlocksUntilTheyEnd() {
        InFlightLedger l = new InFlightLedger(() -> 0);
        l.started("a", 5);
        l.started("a", 3);
        l.started("b", 7);
        assertEquals(2, l.requests("a"));
        assertEquals(8, l.ownBlocks("a"));
        assertEquals(Map.of("a", 8L, "b", 7L), l.ownBlocksByWorker());
        l.ended("a", 5);
        assertEquals(1, l.requests("a"));
        assertEquals(3, l.ownBlocks("a"));
        l.ended("a", 3);
        l.ended("a", 3); // an extra end (a retried stream ending twice) never goes below zero
        assertEquals(0, l.requests("a"));
        assertEquals(0, l.ownBlocks("a"));
        assertEquals(Map.of("b", 7L), l.ownBlocksByWorker(), "a worker with nothing in flight is not published");
    }

    @Test
    void peersFiguresAddUpAndReplaceTheirEarlierOnes() {
        InFlightLedger l = new InFlightLedger(() -> 0);
        l.started("a", 4);
        l.peer("g1", Map.of("a", 10L, "b", 1L));
        l.peer("g2", Map.of("a", 5L));
        assertEquals(15, l.peerBlocks("a"));
        assertEquals(19, l.blocks("a"), "own and peers");
        l.peer("g1", Map.of("b", 2L)); // g1's requests on a ended
        assertEquals(5, l.peerBlocks("a"));
        assertEquals(2, l.peerBlocks("b"));
        assertEquals(Map.of("a", 4L), l.ownBlocksByWorker(), "only this gateway's own figures are published");
    }

    @Test
    void aSilentPeerStopsCounting() {
        AtomicLong now = new AtomicLong(10_000);
        InFlightLedger l = new InFlightLedger(now::get);
        l.peer("g1", Map.of("a", 10L));
        now.addAndGet(InFlightLedger.PEER_STALE_MILLIS);
        assertEquals(10, l.peerBlocks("a"));
        now.addAndGet(1);
        assertEquals(0, l.peerBlocks("a"), "a peer not heard from for longer than the stale time died");
    }
}
