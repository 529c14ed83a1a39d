package io.tandem.transfer.agent;

import io.tandem.platform.LinuxMemory;
import io.tandem.transfer.TransferException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Allocates an agent's registered memory: shm files mapped read-write (so a same-host peer can map them too), their
 * blocks reserved when created, or anonymous {@code calloc} memory, which costs nothing until touched. Both are
 * zero-filled.
 * Everything lives in one shared arena: closing it unmaps/frees every region and fails late accesses instead of
 * touching freed memory.
 */
final class RegionMemory implements AutoCloseable {
    private static final long PAGE = 4096;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle CALLOC = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("calloc"),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("free"),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    private final Arena arena = Arena.ofShared();
    private final List<Path> files = new CopyOnWriteArrayList<>();

    /** Page-aligned zeroed memory: calloc one page more than asked and slice at the first page boundary. */
    MemorySegment anonymous(long bytes) {
        MemorySegment raw;
        try {
            raw = (MemorySegment) CALLOC.invokeExact(1L, bytes + PAGE);
        } catch (Throwable t) {
            throw new TransferException("calloc failed: " + t, t);
        }
        if (raw.equals(MemorySegment.NULL)) throw new TransferException("calloc of " + bytes + " bytes failed");
        long skip = (PAGE - raw.address() % PAGE) % PAGE;
        MemorySegment owned = raw.reinterpret(bytes + PAGE, arena, RegionMemory::free);
        return owned.asSlice(skip, bytes);
    }

    /** Why a region could not be file-backed (no space, no fallocate, no mapping): the agent falls back to anonymous memory. */
    static final class NoFile extends Exception {
        NoFile(String message) {
            super(message);
        }
    }

    /**
     * A file of {@code bytes} under the shm directory (mode 0600), every block reserved so that touching it can never
     * SIGBUS, mapped read-write; deleted on close. Reserving costs the pages now (tmpfs zeroes them), not at first touch.
     */
    MemorySegment file(Path path, long bytes) throws NoFile {
        Path dir = path.getParent();
        long usable;
        try {
            usable = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            throw new NoFile("cannot read the free space of " + dir + ": " + e.getMessage());
        }
        if (bytes > usable) {
            throw new NoFile("needs " + mib(bytes) + " but " + dir + " has " + mib(usable) + " free");
        }
        try {
            ReservedFiles.create(path, bytes);
        } catch (IOException e) {
            throw new NoFile(e.getMessage() + " (" + mib(usable) + " were free in " + dir + ")");
        }
        files.add(path);
        path.toFile().deleteOnExit();
        MemorySegment mapped;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
        } catch (IOException | RuntimeException e) {
            delete(path);
            throw new NoFile("cannot map " + path + ": " + e.getMessage());
        }
        // The file's pages exist already; without this each 4 KiB took a fault at its first write, in the middle of
        // a prefill or decode step (KV arenas: ~1,500 for a 256-token prompt of the bench model; docs/BENCHMARKS.md).
        LinuxMemory.populateWrite(mapped);
        return mapped;
    }

    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    private void delete(Path p) {
        files.remove(p);
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // deleteOnExit is the backup
        }
    }

    private static void free(MemorySegment s) {
        try {
            FREE.invokeExact(s);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        // unlink first: mappings outlive their file on Linux, and the files must go even if unmapping fails
        for (Path p : files) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // deleteOnExit is the backup
            }
        }
        arena.close();
    }
}
