package io.tandem.platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test fixture (also for the transfer module's tests): how much of a mapping is in this process's page tables. */
public final class MappedPages {
    private MappedPages() {
    }

    /** Whether /proc/self/smaps can be read here. */
    public static boolean readable() {
        return Files.isReadable(Path.of("/proc/self/smaps"));
    }

    /** The {@code Rss} (KiB) of the mapping that starts at {@code address}, from /proc/self/smaps. */
    public static long residentKiB(long address) throws IOException {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("[0-9a-f]+-[0-9a-f]+ .*")) inside = line.startsWith(Long.toHexString(address) + "-");
            else if (inside && line.startsWith("Rss:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new AssertionError("no mapping at " + Long.toHexString(address));
    }
}
