package io.tandem.engine.sim;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Time for the simulated engine; tests substitute a virtual clock. */
public interface SimClock {

    long nanoTime();

    /** Waits until {@code deadline} (in {@link #nanoTime()} units) or until {@code abort} is true. */
    void sleepUntil(long deadline, BooleanSupplier abort);

    /** Wall time; parks the scheduler thread (an unpark re-checks {@code abort}). */
    SimClock SYSTEM = new SimClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public void sleepUntil(long deadline, BooleanSupplier abort) {
            long left;
            while ((left = deadline - System.nanoTime()) > 0 && !abort.getAsBoolean()) {
                LockSupport.parkNanos(this, left);
            }
        }
    };
}
