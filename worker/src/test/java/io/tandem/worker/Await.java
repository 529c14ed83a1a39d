package io.tandem.worker;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting in tests without guessing: {@link #until} polls a condition against a deadline, for state that no event
 * announces (an engine's active count, a registry view); {@link #quiet} is the one honest use of elapsed time, a
 * bounded window in which something must NOT happen. A correct run never depends on either's timing: the deadline
 * only bounds a failing run, and a quiet window's length only decides how likely a bug is caught.
 */
public final class Await {
    /** Long enough for a loaded 2-core machine; a passing run returns as soon as the condition holds. */
    public static final Duration DEFAULT = Duration.ofSeconds(20);

    private Await() {}

    public static void until(BooleanSupplier condition, String what) {
        until(DEFAULT, condition, () -> what);
    }

    /** Polls {@code condition} until it holds; fails naming {@code what} once {@code timeout} passed. */
    public static void until(Duration timeout, BooleanSupplier condition, Supplier<String> what) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what.get());
            pause();
        }
    }

    /** Fails as soon as {@code violated} holds at any point within {@code window}. */
    public static void quiet(Duration window, BooleanSupplier violated, Supplier<String> what) {
        long end = System.nanoTime() + window.toNanos();
        do {
            if (violated.getAsBoolean()) throw new AssertionError(what.get());
            pause();
        } while (System.nanoTime() < end);
        if (violated.getAsBoolean()) throw new AssertionError(what.get());
    }

    private static void pause() {
        try {
            Thread.sleep(5); // a polling interval, not a synchronisation: the loop re-checks the condition
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting", e);
        }
    }
}
