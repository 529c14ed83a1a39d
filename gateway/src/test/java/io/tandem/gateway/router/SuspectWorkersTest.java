package io.tandem.gateway.router;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class SuspectWorkersTest {

    @Test
    void aSuspectStaysSuspectForItsTimeByTheClock() {
        AtomicLong now = new AtomicLong(1_000);
        SuspectWorkers s = new SuspectWorkers(500, now::get);
        assertFalse(s.isSuspect("a"));
        s.suspect("a");
        assertTrue(s.isSuspect("a"));
        assertFalse(s.isSuspect("b"), "only the worker named");
        now.set(1_499);
        assertTrue(s.isSuspect("a"));
        now.set(1_500);
        assertFalse(s.isSuspect("a"), "expired exactly after suspectMillis");
    }

    @Test
    void suspectingAgainExtendsTheTime() {
        AtomicLong now = new AtomicLong(0);
        SuspectWorkers s = new SuspectWorkers(100, now::get);
        s.suspect("a");
        now.set(90);
        s.suspect("a");
        now.set(150);
        assertTrue(s.isSuspect("a"));
        now.set(190);
        assertFalse(s.isSuspect("a"));
    }

    @Test
    void aNegativeTimeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SuspectWorkers(-1, () -> 0));
    }
}
