package io.tandem.transfer.tcp;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferOp;
import io.tandem.transfer.control.ControlConnection;
import io.tandem.transfer.control.PeerConnections;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Moves the data over the agents' control connection itself: WRITE frames carry the bytes, READ is answered with
 * READ_DATA frames. Every agent's control channel serves it, so it reaches any peer; no payload, no registration. Each
 * WRITE frame carries the transfer's fence token: the receiver checks it frame by frame, no lease round trip needed.
 */
public final class TcpBackend implements TransferBackend {
    private final PeerConnections connections;

    public TcpBackend(PeerConnections connections) {
        this.connections = connections;
    }

    @Override
    public String name() {
        return "tcp";
    }

    @Override
    public void register(RegisteredRegion region) {
    }

    @Override
    public byte[] payload() {
        return new byte[0];
    }

    @Override
    public boolean canReach(AgentMetadata self, AgentMetadata peer) {
        return true;
    }

    @Override
    public void loadPeer(AgentMetadata peer) {
    }

    @Override
    public void forgetPeer(String agent) {
    }

    @Override
    public CompletableFuture<Void> transfer(TransferOp op, List<MemoryDescriptor> local, List<MemorySegment> localSlices,
                                            AgentMetadata peer, List<MemoryDescriptor> remote) {
        return connections.connection(peer.agent()).thenCompose(c -> transfer(c, op, localSlices, remote, null, 0));
    }

    /**
     * A transfer on {@code connection}, then {@code notification} (may be null); completes once the peer acknowledged
     * both. A WRITE's frames carry {@code fence}, which the receiver checks before a byte lands, and its last frame the
     * notification; after a READ the notification goes in a DONE.
     */
    public CompletableFuture<Void> transfer(ControlConnection connection, TransferOp op, List<MemorySegment> localSlices,
                                            List<MemoryDescriptor> remote, byte[] notification, long fence) {
        if (op == TransferOp.WRITE) return connection.write(localSlices, remote, fence, notification);
        CompletableFuture<Void> read = connection.read(localSlices, remote);
        return notification == null ? read : read.thenCompose(v -> connection.done(0, notification));
    }

    @Override
    public void close() {
    }
}
