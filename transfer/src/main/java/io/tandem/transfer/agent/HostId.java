package io.tandem.transfer.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Identifies the machine (and boot) an agent runs on, for logs and metadata only. It decides nothing: containers on
 * one machine share the boot id, network namespaces share {@code /dev/shm} but not host names. Whether shm works with
 * a peer is proven instead (see {@link io.tandem.transfer.shm.ShmBackend}).
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
