package io.tandem.transfer;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Allocates an agent's registered memory: sparse shm files mapped read-write (so a same-host peer can map them too) or
 * anonymous {@code calloc} memory. Both are zero-filled and cost nothing until touched, so GB-sized regions are cheap.
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

    /** A sparse file of {@code bytes} under the shm directory, mapped read-write; deleted on close. */
    MemorySegment file(Path path, long bytes) {
        try (RandomAccessFile f = new RandomAccessFile(Files.createFile(path).toFile(), "rw")) {
            files.add(path);
            path.toFile().deleteOnExit();
            f.setLength(bytes);
            return f.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
        } catch (IOException e) {
            throw new TransferException("cannot create shm region " + path + ": " + e.getMessage(), e);
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
