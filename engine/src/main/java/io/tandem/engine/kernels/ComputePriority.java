package io.tandem.engine.kernels;

import io.tandem.platform.LinuxThreads;
import io.tandem.platform.RealTimeEventLoops;

import java.util.Locale;

/**
 * How the compute threads yield to the other threads on their cores: the event loops that relay tokens, accept
 * requests and answer health checks must run the moment they wake, not after a compute thread's time slice
 * (milliseconds under Linux's fair scheduler). On its own this is not always enough (a waking fair thread was seen to
 * wait for the next tick); the event loops also run real-time where permitted ({@code --event-loop-priority}).
 */
public sealed interface ComputePriority {

    /**
     * {@link #IDLE}, unless this process's event loops run real-time ({@link RealTimeEventLoops}): then they preempt
     * the compute threads the moment they wake whatever the compute threads' priority, and {@code SCHED_IDLE} would
     * only make a compute thread give way to every other thread too (the JIT compilers, the garbage collector, other
     * processes), leaving the step's other threads waiting for it at the next barrier; so {@link #UNCHANGED}.
     * Measured at one stream on 2 cores: 3-12 % more tokens per second, the gateway's share unchanged (docs/BENCHMARKS.md).
     */
    record Auto() implements ComputePriority {
        /** What this stands for, given whether the event loops run real-time. */
        public ComputePriority resolve(boolean realTimeEventLoops) {
            return realTimeEventLoops ? UNCHANGED : IDLE;
        }

        @Override
        public String toString() {
            return "auto";
        }
    }

    /** Linux {@code SCHED_IDLE}: a compute thread runs only on cores no other thread wants; a waking thread preempts it. */
    record Idle() implements ComputePriority {
        @Override
        public String toString() {
            return "idle";
        }
    }

    /** A Linux nice value, 0..19 (0 leaves the thread as it is). */
    record Nice(int value) implements ComputePriority {
        public Nice {
            if (value < 0 || value > 19) throw new IllegalArgumentException("nice must be 0..19, got " + value);
        }

        @Override
        public String toString() {
            return Integer.toString(value);
        }
    }

    ComputePriority AUTO = new Auto();
    ComputePriority IDLE = new Idle();
    ComputePriority UNCHANGED = new Nice(0);

    /** {@code auto}, {@code idle} or a nice value {@code 0..19}. */
    static ComputePriority parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        if (v.equals("auto")) return AUTO;
        if (v.equals("idle")) return IDLE;
        try {
            return new Nice(Integer.parseInt(v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected auto, idle or a nice value 0..19, got '" + s + "'");
        }
    }

    /**
     * Applies this priority to the calling thread; false when the platform cannot (it then stays as it is). Idle
     * falls back to nice 19 where {@code SCHED_IDLE} is refused.
     */
    default boolean applyToCurrentThread() {
        return switch (this) {
            case Auto a -> a.resolve(RealTimeEventLoops.present()).applyToCurrentThread();
            case Idle i -> LinuxThreads.schedIdle() || LinuxThreads.nice(19);
            case Nice n -> n.value() == 0 || LinuxThreads.nice(n.value());
        };
    }
}
