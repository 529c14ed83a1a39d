package io.tandem.platform;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Populating a mapping puts all its pages in this process's page tables before anything writes to them. */
class LinuxMemoryTest {
    private static final long BYTES = 8L << 20;

    @Test
    void populateWriteMapsEveryPageOfAFileMappingUpFront() throws IOException {
        assumeTrue(MappedPages.readable(), "Linux /proc needed");
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : null;
        Path file = dir == null ? Files.createTempFile("tandem-populate", ".bin") : Files.createTempFile(dir, "tandem-populate", ".bin");
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(BYTES);
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, BYTES, arena);
            assertEquals(0, MappedPages.residentKiB(mapped.address()), "a fresh mapping has no page mapped");
            boolean populated = LinuxMemory.populateWrite(mapped);
            assumeTrue(populated, "MADV_POPULATE_WRITE needs Linux 5.14");
            assertEquals(BYTES / 1024, MappedPages.residentKiB(mapped.address()), "every page is mapped before the first write");
            mapped.set(java.lang.foreign.ValueLayout.JAVA_BYTE, BYTES - 1, (byte) 7);
            assertEquals(7, mapped.get(java.lang.foreign.ValueLayout.JAVA_BYTE, BYTES - 1));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void onlyPageAlignedMemory() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(3 * 4096, 4096).asSlice(8);
            assertThrows(IllegalArgumentException.class, () -> LinuxMemory.populateWrite(s));
            assertFalse(LinuxMemory.populateWrite(MemorySegment.NULL), "nothing to populate");
        }
    }
}
