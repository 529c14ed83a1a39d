package io.tandem.transfer;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One way of moving bytes (tcp, shm, ucx, nixl), plugged into an agent. The agent owns memory, peers, notifications
 * and the choice of backend per peer; a backend only registers memory its own way, describes itself to peers and
 * moves bytes. Implementations run blocking or native calls on the agent's worker pool, never on the caller's thread.
 * Fences, acknowledgement and notifications of one-sided backends are the agent's (leases and DONE on the control
 * connection around {@link #transfer}): a backend has no security or fence code of its own.
 */
public interface TransferBackend extends AutoCloseable {

    /** tcp, shm, ucx or nixl. */
    String name();

    /** Makes an agent-allocated region transferable by this backend (e.g. {@code ucp_mem_map} of its memory). */
    void register(RegisteredRegion region);

    /** What a peer's instance of this backend needs (e.g. the UCX worker address and packed rkeys); may be empty. */
    byte[] payload();

    /**
     * Whether this backend may reach {@code peer} from {@code self} (ucx: the peer offers ucx). For shm only a
     * precondition: the agent then proves the mapping (see {@link io.tandem.transfer.shm.ShmBackend}).
     */
    boolean canReach(AgentMetadata self, AgentMetadata peer);

    /** Prepares to transfer with a peer (endpoints, rkeys, mappings); called again when its metadata changes. */
    void loadPeer(AgentMetadata peer);

    /** Drops what {@link #loadPeer} prepared; in-flight transfers with it fail. */
    void forgetPeer(String agent);

    /**
     * Moves bytes between {@code localSlices} (the agent resolved {@code local} to its memory) and the peer's
     * {@code remote} descriptors, pairwise. Completes when every byte is in place at the destination; fails with a
     * {@link TransferException} otherwise.
     */
    CompletableFuture<Void> transfer(TransferOp op, List<MemoryDescriptor> local, List<MemorySegment> localSlices,
                                     AgentMetadata peer, List<MemoryDescriptor> remote);

    @Override
    void close();
}
