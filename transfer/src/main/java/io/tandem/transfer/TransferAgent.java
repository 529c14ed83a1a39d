package io.tandem.transfer;

import java.util.List;
import java.util.function.Consumer;

/**
 * A transfer agent, shaped like NIXL's: register memory, export local metadata and load a peer's, post one-sided
 * WRITE and READ transfers of descriptor lists with an optional notification, poll their status, receive
 * notifications. One agent per worker process; the engine's KV arenas are {@link #register registered} through it
 * from the start, so any block can be transferred in place.
 *
 * <p>Every control connection is authenticated (the cluster secret, when configured) and identified (a peer's name and
 * epoch must be the ones its metadata names); writes into this agent's memory can be fenced (see {@link #fences()}).
 *
 * <p>Thread-safe. {@link #post} never blocks on the network or on native calls: blocking work runs on the agent's
 * own threads (the named Vert.x worker pool of {@link TransferConfig#nativePoolSize()}), never on the caller's.
 * {@link #loadPeer} does block (it connects and authenticates): call it on a worker thread.
 */
public interface TransferAgent extends AutoCloseable {

    /** The agent's unique name (peers address it by this). */
    String name();

    /** The configured backend: tcp, shm, ucx, nixl or auto — tcp when shm was configured but the shm directory had no room. */
    String backend();

    /**
     * Allocates {@code bytes} of zero-filled memory, page aligned, registered with every backend of this agent
     * (for shm a file of mode 0600 under the shm directory, its blocks reserved; for ucx also {@code ucp_mem_map}ped).
     * When the shm directory has no room for it, the region is anonymous and shm is no longer offered (logged at WARN).
     * Freed when the agent closes.
     */
    RegisteredRegion register(String label, long bytes);

    /** The registered regions, in id order. */
    List<RegisteredRegion> regions();

    /** This agent's metadata for peers; changes when regions are registered. */
    AgentMetadata metadata();

    /**
     * Loads (or reloads) a peer's metadata; afterwards {@link #post} can address it. Returns the backend chosen for it.
     *
     * <p><b>Blocking: call it on a worker thread</b> (never on an event loop, where it throws). It connects to the
     * peer's control channel and completes the handshake first (mutual proof of the cluster secret, when configured,
     * and identity: the agent reached must be the one {@code peer} names, same name and epoch), then picks the backend:
     * shm only once this agent proved it maps the peer's memory (it reads back the nonce of the owner's
     * probe file). Fails with a {@link TransferException} saying why: unreachable, refused, another agent or epoch
     * reached ("reached agent X epoch E, expected Y epoch F"), this agent's own metadata, no common backend.
     */
    String loadPeer(AgentMetadata peer);

    /** Forgets a peer (it died or restarted); its in-flight transfers fail. */
    void forgetPeer(String peer);

    /** The backend this agent uses for a loaded peer, or {@code null} when the peer is unknown. */
    String backendFor(String peer);

    /**
     * Posts a transfer between {@code local} descriptors (regions of this agent) and {@code remote} descriptors
     * (regions of {@code peer}), pairwise, equal lengths. {@code notification} (may be {@code null}) is delivered to
     * the peer after the data is in place. Bad descriptors and unknown peers throw {@link TransferException} at once;
     * failures in flight fail the handle.
     */
    default TransferHandle post(TransferOp op, List<MemoryDescriptor> local, String peer, List<MemoryDescriptor> remote,
                                byte[] notification) {
        return post(op, local, peer, remote, notification, 0);
    }

    /**
     * {@link #post(TransferOp, List, String, List, byte[]) post} with a fencing token: a WRITE lands only where the peer
     * {@link WriteFences#grant granted} {@code fence} and not once it revoked it; otherwise the handle fails naming the
     * fence and nothing lands (of a tcp write revoked half-way, what landed before the revoke stays). {@code fence} 0 = unfenced (refused by peers that require fences). READs take no fence
     * (a non-zero one throws). With one-sided backends (shm, ucx) a fenced WRITE costs two round trips on the control
     * connection (lease, release), an unfenced one a single confirmation; tcp carries the token in its frames.
     */
    TransferHandle post(TransferOp op, List<MemoryDescriptor> local, String peer, List<MemoryDescriptor> remote,
                        byte[] notification, long fence);

    /** Write fencing of this agent's memory (the receiving side). */
    WriteFences fences();

    /** Refused connections by reason and fenced writes, since the agent opened. */
    TransferStats stats();

    /** Notifications received since the last call (NIXL's getNotifs). */
    List<Notification> takeNotifications();

    /** Also (or instead) receive each notification as it arrives, on an agent thread; must not block. */
    void onNotification(Consumer<Notification> handler);

    /** Stops the agent: in-flight transfers fail, peers are disconnected, registered memory is freed. */
    @Override
    void close();
}
