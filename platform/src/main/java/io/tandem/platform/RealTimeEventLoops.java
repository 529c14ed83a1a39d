package io.tandem.platform;

/**
 * Whether this process's event loops run real-time ({@code SCHED_FIFO}). Announced by what schedules them, when a
 * Vert.x is built, before anything runs on it; read by what schedules threads around them: the compute threads need
 * not give way to every other thread when the event loops preempt them anyway.
 */
public final class RealTimeEventLoops {
    private static volatile boolean announced;

    private RealTimeEventLoops() {
    }

    /** This process has event loops that run real-time (it stays so: loops are not taken out of it again). */
    public static void announce() {
        announced = true;
    }

    /** Whether {@link #announce()} was called in this process. */
    public static boolean present() {
        return announced;
    }
}
