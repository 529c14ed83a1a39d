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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Populating a mapping puts all its pages in this process's page tables before anything writes to them. */
class LinuxMemoryTest {
    private static final long BYTES = 8L << 20;

    @Test
    void populateWriteMapsEveryPageOfAFileMappingUpFront() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "Linux /proc needed");
        Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : null;
        Path file = dir == null ? Files.createTempFile("tandem-populate", ".bin") : Files.createTempFile(dir, "tandem-populate", ".bin");
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(BYTES);
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, BYTES, arena);
            assertEquals(0, residentKiB(mapped), "a fresh mapping has no page mapped");
            boolean populated = LinuxMemory.populateWrite(mapped);
            assumeTrue(populated, "MADV_POPULATE_WRITE needs Linux 5.14");
            assertEquals(BYTES / 1024, residentKiB(mapped), "every page is mapped before the first write");
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
            assertTrue(!LinuxMemory.populateWrite(MemorySegment.NULL), "nothing to populate");
        }
    }

    /** The {@code Rss} (KiB) of the mapping that starts at {@code s}'s address, from /proc/self/smaps. */
    private static long residentKiB(MemorySegment s) throws IOException {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("[0-9a-f]+-[0-9a-f]+ .*")) inside = line.startsWith(Long.toHexString(s.address()) + "-");
            else if (inside && line.startsWith("Rss:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new AssertionError("no mapping at " + Long.toHexString(s.address()));
    }
}
