package io.tandem.platform;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The calling thread's Linux scheduling, through glibc's {@code gettid}, {@code setpriority},
 * {@code sched_setscheduler} and {@code sched_getscheduler} (FFM). Java's thread priorities do nothing on Linux.
 * Every change answers false where the platform cannot do it or refuses it (nothing changes then).
 */
public final class LinuxThreads {
    /** {@code SCHED_OTHER}: Linux's fair scheduler, where every thread starts. */
    public static final int SCHED_OTHER = 0;
    /** {@code SCHED_FIFO}: real-time; runs before every fair thread and preempts one the moment it wakes. */
    public static final int SCHED_FIFO = 1;
    /** {@code SCHED_IDLE}: runs only when no other thread wants the core. */
    public static final int SCHED_IDLE = 5;

    /** Or'ed into a policy: threads this one starts do not inherit it (they start in {@code SCHED_OTHER}). */
    private static final int SCHED_RESET_ON_FORK = 0x40000000;
    private static final int PRIO_PROCESS = 0; // with a thread id, setpriority applies to that thread alone (Linux)
    private static final MethodHandle GETTID = Libc.function("gettid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle SETPRIORITY = Libc.function("setpriority", FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SCHED_SETSCHEDULER = Libc.function("sched_setscheduler", FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle SCHED_GETSCHEDULER = Libc.function("sched_getscheduler", FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private LinuxThreads() {
    }

    /** Sets the calling thread's nice value (0..19). */
    public static boolean nice(int nice) {
        if (GETTID == null || SETPRIORITY == null) return false;
        try {
            int tid = (int) GETTID.invokeExact();
            return (int) SETPRIORITY.invokeExact(PRIO_PROCESS, tid, nice) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Puts the calling thread in {@code SCHED_IDLE}. */
    public static boolean schedIdle() {
        return setScheduler(SCHED_IDLE, 0);
    }

    /**
     * Puts the calling thread in {@code SCHED_FIFO} at {@code priority} (1..99). Linux allows it to root, to a process
     * with {@code CAP_SYS_NICE}, or up to the process's {@code RLIMIT_RTPRIO}. Threads the calling thread starts
     * afterwards (a pool's, an engine's) start in {@code SCHED_OTHER}, not real-time.
     */
    public static boolean fifo(int priority) {
        if (priority < 1 || priority > 99) throw new IllegalArgumentException("priority must be 1..99, got " + priority);
        return setScheduler(SCHED_FIFO | SCHED_RESET_ON_FORK, priority);
    }

    /**
     * Whether Linux lets this process put a thread in {@code SCHED_FIFO} at {@code priority}, by trying it on a
     * short-lived thread of its own (whatever grants it: root, {@code CAP_SYS_NICE} or {@code RLIMIT_RTPRIO}).
     */
    public static boolean fifoPermitted(int priority) {
        boolean[] permitted = {false};
        Thread probe = Thread.ofPlatform().name("tandem-fifo-probe").start(() -> permitted[0] = fifo(priority));
        try {
            probe.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return permitted[0];
    }

    /** The calling thread's policy ({@link #SCHED_OTHER}, {@link #SCHED_FIFO}, ...), or -1 where it cannot be read. */
    public static int policy() {
        if (SCHED_GETSCHEDULER == null) return -1;
        try {
            int policy = (int) SCHED_GETSCHEDULER.invokeExact(0);
            return policy < 0 ? -1 : policy & ~SCHED_RESET_ON_FORK;
        } catch (Throwable t) {
            return -1;
        }
    }

    private static boolean setScheduler(int policy, int priority) {
        if (GETTID == null || SCHED_SETSCHEDULER == null) return false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(ValueLayout.JAVA_INT); // struct sched_param { int sched_priority; }
            param.set(ValueLayout.JAVA_INT, 0, priority);
            int tid = (int) GETTID.invokeExact();
            return (int) SCHED_SETSCHEDULER.invokeExact(tid, policy, param) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
