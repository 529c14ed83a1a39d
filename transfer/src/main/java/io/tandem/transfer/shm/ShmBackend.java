package io.tandem.transfer.shm;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegionInfo;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferOp;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Same-host transfers through shared memory: the agent backs its regions with files under the shm directory, this
 * backend maps a peer's region files once (in {@link #loadPeer}) and a transfer is one {@link MemorySegment#copy}
 * per descriptor, run on the agent's native pool — or, for transfers up to {@link #INLINE_BYTES}, right on the
 * caller's thread, where a copy of a few microseconds costs less than handing it to the pool. The data is in the peer's
 * memory when the copy returns.
 */
public final class ShmBackend implements TransferBackend {
    private record Mapped(Arena arena, Map<Integer, MemorySegment> regions) {
    }

    /** Transfers up to this size are copied on the posting thread (at 10-20 GB/s, 50-100 microseconds at most). */
    static final long INLINE_BYTES = 1024 * 1024;

    private final TransferContext context;
    private final Map<String, Mapped> peers = new ConcurrentHashMap<>();

    public ShmBackend(TransferContext context) {
        this.context = context;
    }

    @Override
    public String name() {
        return "shm";
    }

    @Override
    public void register(RegisteredRegion region) {
        if (region.path() == null) throw new TransferException("shm needs file-backed regions: " + region.label());
    }

    @Override
    public byte[] payload() {
        return new byte[0];
    }

    @Override
    public boolean canReach(AgentMetadata self, AgentMetadata peer) {
        return unreachableReason(self, peer).isEmpty();
    }

    /** Why shm cannot reach {@code peer}, or empty when it can. */
    public static Optional<String> unreachableReason(AgentMetadata self, AgentMetadata peer) {
        if (!peer.offers("shm")) return Optional.of("peer " + peer.agent() + " does not offer shm");
        if (!self.hostId().equals(peer.hostId())) {
            return Optional.of("peer " + peer.agent() + " is on another host (" + peer.hostId() + ", here " + self.hostId() + ")");
        }
        for (RegionInfo r : peer.regions()) {
            if (r.path() == null || !Files.exists(Path.of(r.path()))) {
                return Optional.of("region file " + r.path() + " of peer " + peer.agent() + " not found");
            }
        }
        return Optional.empty();
    }

    @Override
    public void loadPeer(AgentMetadata peer) {
        Arena arena = Arena.ofShared();
        Map<Integer, MemorySegment> regions = new HashMap<>();
        try {
            for (RegionInfo r : peer.regions()) {
                try (FileChannel ch = FileChannel.open(Path.of(r.path()), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    regions.put(r.id(), ch.map(FileChannel.MapMode.READ_WRITE, 0, r.size(), arena));
                }
            }
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw new TransferException("shm cannot map the regions of " + peer.agent() + ": " + e.getMessage(), e);
        }
        Mapped old = peers.put(peer.agent(), new Mapped(arena, regions));
        if (old != null) old.arena.close();
    }

    @Override
    public void forgetPeer(String agent) {
        Mapped m = peers.remove(agent);
        if (m != null) m.arena.close();
    }

    @Override
    public CompletableFuture<Void> transfer(TransferOp op, List<MemoryDescriptor> local, List<MemorySegment> localSlices,
                                            AgentMetadata peer, List<MemoryDescriptor> remote) {
        long bytes = 0;
        for (MemoryDescriptor d : remote) bytes += d.length();
        if (bytes <= INLINE_BYTES) {
            try {
                copy(op, localSlices, peer, remote);
                return CompletableFuture.completedFuture(null);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        return context.nativePool().<Void>executeBlocking(() -> {
            copy(op, localSlices, peer, remote);
            return null;
        }, false).toCompletionStage().toCompletableFuture();
    }

    private void copy(TransferOp op, List<MemorySegment> localSlices, AgentMetadata peer, List<MemoryDescriptor> remote) {
        Mapped m = peers.get(peer.agent());
        if (m == null) throw new TransferException("shm: peer " + peer.agent() + " not loaded");
        for (int i = 0; i < remote.size(); i++) {
            MemoryDescriptor d = remote.get(i);
            MemorySegment theirs = m.regions.get(d.region());
            if (theirs == null) throw new TransferException("shm: peer " + peer.agent() + " has no region " + d.region());
            MemorySegment mine = localSlices.get(i);
            if (op == TransferOp.WRITE) MemorySegment.copy(mine, 0, theirs, d.offset(), d.length());
            else MemorySegment.copy(theirs, d.offset(), mine, 0, d.length());
        }
    }

    @Override
    public void close() {
        for (String p : List.copyOf(peers.keySet())) forgetPeer(p);
    }
}
