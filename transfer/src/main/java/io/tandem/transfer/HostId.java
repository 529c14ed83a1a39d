package io.tandem.transfer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Identifies the machine (and boot) an agent runs on: two agents with the same host id can share memory through
 * files under the shm directory. The boot id tells apart containers with equal host names on different machines.
 */
public final class HostId {
    private static final String VALUE = compute();

    private HostId() {
    }

    public static String get() {
        return VALUE;
    }

    private static String compute() {
        return read("/proc/sys/kernel/random/boot_id") + "/" + read("/proc/sys/kernel/hostname");
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
