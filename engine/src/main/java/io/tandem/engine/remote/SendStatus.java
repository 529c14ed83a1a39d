package io.tandem.engine.remote;

/**
 * Where a {@link KvExport}'s sends are, as the engine polls them once per step. Only {@link Done} and {@link Failed}
 * let the engine release the blocks the sends read from.
 */
public sealed interface SendStatus {

    /** Sends may still be posted, or some posted send is still reading the blocks. */
    record Pending() implements SendStatus {
    }

    /** Every posted send completed: the KV is in the decode worker's blocks, and nothing reads the local ones. */
    record Done() implements SendStatus {
    }

    /**
     * A send failed or did not finish in time, and nothing reads the local blocks any more (or the export gave up on
     * a send at its deadline). {@code reason} names the peer and what happened; the decode worker prefills locally.
     */
    record Failed(String reason) implements SendStatus {
    }

    SendStatus PENDING = new Pending();
    SendStatus DONE = new Done();
}
