package io.tandem.transfer;

import java.util.concurrent.CompletableFuture;

/**
 * A posted transfer. {@link #status()} polls it (NIXL's getXferStatus); {@link #completion()} completes when the data
 * is in place at the destination and the peer acknowledged the transfer and its notification, if any; or fails with a
 * {@link TransferException} (also when a fence refused it). A transfer never hangs and never reports success to a peer
 * that died: the closed connection, the missing acknowledgement or the agent's transfer timeout fails it.
 */
public final class TransferHandle {
    private final String peer;
    private final String backend;
    private final long bytes;
    private final CompletableFuture<Void> completion;

    public TransferHandle(String peer, String backend, long bytes, CompletableFuture<Void> completion) {
        this.peer = peer;
        this.backend = backend;
        this.bytes = bytes;
        this.completion = completion;
    }

    public TransferStatus status() {
        if (!completion.isDone()) return TransferStatus.IN_PROGRESS;
        try {
            completion.join();
            return TransferStatus.DONE;
        } catch (RuntimeException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return new TransferStatus.Failed(String.valueOf(c.getMessage()));
        }
    }

    public CompletableFuture<Void> completion() {
        return completion;
    }

    public String peer() {
        return peer;
    }

    /** The backend that carried it (tcp, shm, ucx, nixl). */
    public String backend() {
        return backend;
    }

    public long bytes() {
        return bytes;
    }
}
