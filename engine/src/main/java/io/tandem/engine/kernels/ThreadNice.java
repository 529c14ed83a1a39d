package io.tandem.engine.kernels;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Sets the Linux nice value of the calling thread (glibc's {@code gettid} and {@code setpriority}, through FFM). Java's
 * thread priorities do nothing on Linux, and a compute thread at the same priority as an event loop keeps its core
 * until its time slice ends (milliseconds) when the event loop wakes up; a nicer compute thread is preempted at once.
 */
public final class ThreadNice {
    private static final int PRIO_PROCESS = 0; // with a thread id, setpriority applies to that thread alone (Linux)
    private static final MethodHandle GETTID, SETPRIORITY;

    static {
        MethodHandle gettid = null, setpriority = null;
        try {
            Linker linker = Linker.nativeLinker();
            Optional<java.lang.foreign.MemorySegment> g = linker.defaultLookup().find("gettid");
            Optional<java.lang.foreign.MemorySegment> s = linker.defaultLookup().find("setpriority");
            if (g.isPresent() && s.isPresent()) {
                gettid = linker.downcallHandle(g.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
                setpriority = linker.downcallHandle(s.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            }
        } catch (RuntimeException | LinkageError e) {
            // not Linux/glibc, or native access refused: priorities stay as they are
        }
        GETTID = gettid;
        SETPRIORITY = setpriority;
    }

    private ThreadNice() {
    }

    /** Sets the calling thread's nice value; false when this platform cannot (nothing changes then). */
    public static boolean set(int nice) {
        if (SETPRIORITY == null) return false;
        try {
            int tid = (int) GETTID.invokeExact();
            return (int) SETPRIORITY.invokeExact(PRIO_PROCESS, tid, nice) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
