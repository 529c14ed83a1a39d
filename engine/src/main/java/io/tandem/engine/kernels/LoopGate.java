package io.tandem.engine.kernels;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Who is inside one {@link ComputePool} loop. The caller opens the gate for a loop, workers enter it to claim tasks,
 * and once every task is claimed the caller closes it and waits only for the workers inside. A worker that wakes
 * after the close (a parked thread can take tens of microseconds to run again, longer in a VM) stays out, so the
 * caller never waits for a thread that has nothing left to do. One atomic long: the loop's epoch in the high 32 bits,
 * {@link #CLOSED}, and the number of workers inside in the low bits.
 */
final class LoopGate {
    private static final long CLOSED = 1L << 31;
    private static final long INSIDE = CLOSED - 1;

    private final AtomicLong state = new AtomicLong();

    /** Opens the gate for the loop {@code epoch}, empty (the caller, before publishing the loop). */
    void open(long epoch) {
        state.set(epoch << 32);
    }

    /** Enters the loop {@code epoch}: false when the gate is closed or already opened for a later loop. */
    boolean enter(long epoch) {
        long tag = epoch & 0xffff_ffffL;
        while (true) {
            long s = state.get();
            if (s >>> 32 != tag || (s & CLOSED) != 0) return false;
            if (state.compareAndSet(s, s + 1)) return true;
        }
    }

    /** Leaves the loop entered last; true when the gate was closed and this was the last worker inside. */
    boolean leave() {
        long s = state.decrementAndGet();
        return (s & CLOSED) != 0 && (s & INSIDE) == 0;
    }

    /** Closes the gate (the caller, once every task is claimed): no worker enters from now on. */
    void close() {
        state.getAndUpdate(s -> s | CLOSED);
    }

    /** Workers still inside (running tasks they claimed). */
    int inside() {
        return (int) (state.get() & INSIDE);
    }
}
