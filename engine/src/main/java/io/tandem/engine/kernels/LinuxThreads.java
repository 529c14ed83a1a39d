package io.tandem.engine.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The calling thread's Linux scheduling, through glibc's {@code gettid}, {@code setpriority} and
 * {@code sched_setscheduler} (FFM). Java's thread priorities do nothing on Linux. Every call answers false where the
 * platform cannot do it (nothing changes then).
 */
final class LinuxThreads {
    private static final int PRIO_PROCESS = 0; // with a thread id, setpriority applies to that thread alone (Linux)
    private static final int SCHED_IDLE = 5;
    private static final MethodHandle GETTID, SETPRIORITY, SCHED_SETSCHEDULER;

    static {
        MethodHandle gettid = null, setpriority = null, setscheduler = null;
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            gettid = libc.find("gettid").map(s -> linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.JAVA_INT)))
                    .orElse(null);
            setpriority = libc.find("setpriority").map(s -> linker.downcallHandle(s, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT))).orElse(null);
            setscheduler = libc.find("sched_setscheduler").map(s -> linker.downcallHandle(s, FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS))).orElse(null);
        } catch (RuntimeException | LinkageError e) {
            // not Linux/glibc, or native access refused: scheduling stays as it is
        }
        GETTID = gettid;
        SETPRIORITY = setpriority;
        SCHED_SETSCHEDULER = setscheduler;
    }

    private LinuxThreads() {
    }

    /** Sets the calling thread's nice value (0..19). */
    static boolean nice(int nice) {
        if (GETTID == null || SETPRIORITY == null) return false;
        try {
            int tid = (int) GETTID.invokeExact();
            return (int) SETPRIORITY.invokeExact(PRIO_PROCESS, tid, nice) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /** Puts the calling thread in {@code SCHED_IDLE}. */
    static boolean schedIdle() {
        if (GETTID == null || SCHED_SETSCHEDULER == null) return false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(ValueLayout.JAVA_INT); // struct sched_param { int sched_priority = 0; }
            int tid = (int) GETTID.invokeExact();
            return (int) SCHED_SETSCHEDULER.invokeExact(tid, SCHED_IDLE, param) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
