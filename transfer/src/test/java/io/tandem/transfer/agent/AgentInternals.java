package io.tandem.transfer.agent;

import io.tandem.transfer.TransferAgent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** Reaches the agent implementation's test hooks from the API package's tests. */
public final class AgentInternals {
    private AgentInternals() {
    }

    /** Leased one-sided writes of {@code agent} wait for the supplied future after their lease, before the data moves. */
    public static void afterLease(TransferAgent agent, Supplier<CompletableFuture<Void>> hook) {
        ((DefaultTransferAgent) agent).afterLease(hook);
    }

    /** Creates {@code path} with {@code bytes} reserved on its file system (as shm region files are). */
    public static void reserveFile(Path path, long bytes) throws IOException {
        ReservedFiles.create(path, bytes);
    }
}
