package io.tandem.gateway.it.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A process running inside one of {@link NetnsHosts}'s hosts, its output (stderr included) captured in a log file.
 * {@code ip netns exec}, {@code unshare} and {@code sh} all exec in place, so this pid is the command's own pid.
 */
public final class HostProcess implements AutoCloseable {
    private final String name;
    private final String host;
    private final Process process;
    private final Path log;

    HostProcess(String name, String host, Process process, Path log) {
        this.name = name;
        this.host = host;
        this.process = process;
        this.log = log;
    }

    public String name() {
        return name;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    /** Waits (bounded) for the process to end and returns its exit code, or -1 if it is still running. */
    public int waitFor(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** A header naming the process, then its whole log: for failure messages. */
    public String describe() {
        return "---- " + name + " on host " + host + " (pid " + process.pid() + ", alive=" + process.isAlive() + ", log "
                + log + ") ----\n" + output();
    }

    /** SIGKILL: no shutdown hook runs. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, without waiting (to stop several processes at once, then {@link #close} each). */
    public void terminate() {
        process.destroy();
    }

    /** SIGTERM, then SIGKILL after 10 s. */
    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) return;
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) kill();
    }
}
