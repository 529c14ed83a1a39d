package io.tandem.transfer.control;

import io.tandem.transfer.MemoryDescriptor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FenceTableTest {
    private static MemoryDescriptor d(int region, long offset, long length) {
        return new MemoryDescriptor(region, offset, length);
    }

    @Test
    void grantsCoverTheirRangesMergedAndNothingElse() {
        FenceTable t = new FenceTable();
        t.grant(7, List.of(d(0, 0, 100), d(0, 200, 100), d(1, 0, 10)));
        t.grant(7, List.of(d(0, 100, 100))); // fills the gap: [0, 300) is now one range
        assertNotNull(t.admit(7, 0, 50, 250), "a write across ranges granted one by one");
        assertNull(t.admit(7, 0, 250, 100), "past the end");
        assertNull(t.admit(7, 1, 5, 10), "another region's range");
        assertNull(t.admit(8, 0, 0, 1), "another token");
        assertNotNull(t.lease(7, List.of(d(0, 0, 1), d(1, 0, 10))));
        assertNull(t.lease(7, List.of(d(0, 0, 1), d(1, 0, 11))), "a lease needs every range covered");
        assertThrows(IllegalArgumentException.class, () -> t.grant(0, List.of(d(0, 0, 1))));
    }

    @Test
    void revokeCompletesOnceTheWritesInFlightAreOver() {
        FenceTable t = new FenceTable();
        t.grant(1, List.of(d(0, 0, 4096)));
        FenceTable.Grant lease = t.lease(1, List.of(d(0, 0, 4096)));
        FenceTable.Grant frame = t.admit(1, 0, 0, 10);
        assertTrue(frame.enter());
        CompletableFuture<Void> revoked = t.revoke(1);
        assertFalse(revoked.isDone(), "a lease and a frame are in flight");
        assertNull(t.admit(1, 0, 0, 10), "nothing new is admitted");
        assertNull(t.lease(1, List.of(d(0, 0, 10))));
        assertFalse(frame.enter(), "the next chunk of a frame admitted before is dropped");
        frame.exit();
        assertFalse(revoked.isDone());
        lease.exit();
        assertTrue(revoked.isDone());
        assertTrue(t.revoke(99).isDone(), "a token never granted");
    }

    @Test
    void countsWhatItIsTold() {
        FenceTable t = new FenceTable();
        t.countFenced();
        t.countFenced();
        assertEquals(2, t.fenced());
    }
}
