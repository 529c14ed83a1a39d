package io.tandem.transfer.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Region files are named {@code tandem-<pid>-<agent>-<id>-<label>}, the shm probe {@code tandem-<pid>-<agent>-probe}: an agent deletes its own on close, but a process
 * that was killed cannot, and {@code /dev/shm} is memory. So every agent that maps files first deletes those whose
 * process is gone. (A reused pid only makes a stale file survive longer; a live agent's files are never touched.)
 */
final class StaleRegionFiles {
    private static final System.Logger LOG = System.getLogger(StaleRegionFiles.class.getName());
    private static final Pattern NAME = Pattern.compile("tandem-(\\d+)-.+");

    private StaleRegionFiles() {
    }

    /** The file name of a region of this process's agent. */
    static String name(String agent, int id, String label) {
        return "tandem-" + ProcessHandle.current().pid() + "-" + agent + "-" + id + "-" + label;
    }

    /** The file name of this process's agent's shm probe. */
    static String probeName(String agent) {
        return "tandem-" + ProcessHandle.current().pid() + "-" + agent + "-probe";
    }

    /** Deletes region files in {@code dir} left by processes that no longer run; returns how many. */
    static int sweep(Path dir) {
        int deleted = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Matcher m = NAME.matcher(f.getFileName().toString());
                if (!m.matches()) continue;
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).isEmpty() && Files.deleteIfExists(f)) deleted++;
            }
        } catch (IOException | SecurityException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not sweep " + dir + ": " + e);
        }
        if (deleted > 0) LOG.log(System.Logger.Level.INFO, "deleted " + deleted + " region files of dead processes in " + dir);
        return deleted;
    }
}
