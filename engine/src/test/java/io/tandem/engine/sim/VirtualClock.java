package io.tandem.engine.sim;

import java.util.function.BooleanSupplier;

/** A clock whose sleeps advance virtual time at once, so timing can be asserted exactly. */
final class VirtualClock implements SimClock {
    private volatile long now;

    @Override
    public long nanoTime() {
        return now;
    }

    @Override
    public void sleepUntil(long deadline, BooleanSupplier abort) {
        if (deadline > now) now = deadline;
    }
}
