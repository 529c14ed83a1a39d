package io.tandem.gateway.router;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Workers that recently did not answer (no handler, timeout): the router avoids them for {@code suspectMillis}, by
 * the given clock, unless nothing else is left.
 */
public final class SuspectWorkers {
    private final long suspectMillis;
    private final LongSupplier clock;
    private final Map<String, Long> suspectUntil = new ConcurrentHashMap<>();

    public SuspectWorkers(long suspectMillis, LongSupplier clock) {
        if (suspectMillis < 0) throw new IllegalArgumentException("suspectMillis must be >= 0, got " + suspectMillis);
        this.suspectMillis = suspectMillis;
        this.clock = clock;
    }

    /** The worker did not answer: avoid it until {@code suspectMillis} from now. */
    public void suspect(String workerId) {
        suspectUntil.put(workerId, clock.getAsLong() + suspectMillis);
    }

    public boolean isSuspect(String workerId) {
        Long until = suspectUntil.get(workerId);
        if (until == null) return false;
        if (clock.getAsLong() < until) return true;
        suspectUntil.remove(workerId, until);
        return false;
    }
}
