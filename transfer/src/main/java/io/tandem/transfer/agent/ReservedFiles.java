package io.tandem.transfer.agent;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Files whose every block is reserved up front ({@code posix_fallocate}), created with mode 0600. A sparse file on a
 * full tmpfs maps fine and SIGBUSes the process on the first touch of a page the filesystem cannot provide; a reserved
 * one either exists whole or not at all. FFM downcalls into libc (Linux: the open flags are the generic ones).
 */
final class ReservedFiles {
    private static final int O_RDWR = 0x2, O_CREAT = 0x40, O_EXCL = 0x80, O_CLOEXEC = 0x80000;
    private static final int MODE_0600 = 0600;
    private static final int EINTR = 4;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("open"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(2), Linker.Option.captureCallState("errno"));
    private static final MethodHandle FALLOCATE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("posix_fallocate"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("close"),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private ReservedFiles() {
    }

    /**
     * Creates {@code path} (it must not exist) with mode 0600 and {@code bytes} reserved. On any failure the file is
     * gone and an IOException says why (ENOSPC: the filesystem is full).
     */
    static void create(Path path, long bytes) throws IOException {
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path.toString()), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, MODE_0600);
            if (fd < 0) throw new IOException("cannot create " + path + ": errno " + (int) ERRNO.get(state, 0L));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("open(" + path + ") failed: " + t, t);
        }
        int err;
        try {
            do {
                err = (int) FALLOCATE.invokeExact(fd, 0L, bytes);
            } while (err == EINTR);
        } catch (Throwable t) {
            err = -1;
        } finally {
            try {
                int ignored = (int) CLOSE.invokeExact(fd);
            } catch (Throwable ignored) {
                // the descriptor is gone either way
            }
        }
        if (err != 0) {
            Files.deleteIfExists(path);
            throw new IOException("cannot reserve " + bytes + " bytes for " + path + ": "
                    + (err == 28 ? "no space left (ENOSPC)" : "posix_fallocate error " + err));
        }
    }
}
