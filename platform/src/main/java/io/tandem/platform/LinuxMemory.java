package io.tandem.platform;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Advice to Linux about mapped memory, through glibc's {@code madvise} (FFM). Answers false where the platform cannot
 * do it or refuses it (nothing changes then).
 */
public final class LinuxMemory {
    /** {@code MADV_POPULATE_WRITE} (Linux 5.14): fault every page of the range in, writable, now. */
    private static final int MADV_POPULATE_WRITE = 23;
    private static final long PAGE = 4096;
    private static final MethodHandle MADVISE = Libc.function("madvise", FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private LinuxMemory() {
    }

    /**
     * Maps every page of {@code segment} (which starts on a page boundary) writable now, in one system call, instead
     * of one page fault at each page's first write. Worth it where those writes are on a latency path and the pages
     * are already allocated (a reserved shm file): it then costs page tables only, no memory.
     */
    public static boolean populateWrite(MemorySegment segment) {
        if (MADVISE == null || segment.byteSize() == 0) return false;
        if (segment.address() % PAGE != 0) throw new IllegalArgumentException("not page-aligned: " + segment);
        try {
            return (int) MADVISE.invokeExact(segment, segment.byteSize(), MADV_POPULATE_WRITE) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
