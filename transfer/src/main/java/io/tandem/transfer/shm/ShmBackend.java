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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Same-host transfers through shared memory: the agent backs its regions with files under the shm directory, this
 * backend maps a peer's region files once (in {@link #loadPeer}) and a transfer is one {@link MemorySegment#copy}
 * per descriptor, run on the agent's native pool — or, for transfers up to {@link #INLINE_BYTES}, right on the
 * calling thread, where a copy of a few microseconds costs less than handing it to the pool.
 *
 * <p>A same host name or boot id proves nothing (containers on one machine share the boot id, network namespaces
 * share {@code /dev/shm} but not host names), so shm is used only once proven: each agent writes a random nonce into
 * its own {@link ShmProbe probe file}, whose path (never the nonce) its payload carries; {@link #loadPeer} maps the
 * peer's probe file with its regions and reads the nonce, which the agent presents to the peer over the
 * authenticated control connection. Only when the peer confirms it does the agent use shm for that peer.
 */
public final class ShmBackend implements TransferBackend {
    private record Mapped(Arena arena, Map<Integer, MemorySegment> regions, byte[] nonce) {
    }

    /** Transfers up to this size are copied on the posting thread (at 10-20 GB/s, 50-100 microseconds at most). */
    static final long INLINE_BYTES = 1024 * 1024;

    private final TransferContext context;
    private final ShmProbe probe;
    private final Map<String, Mapped> peers = new ConcurrentHashMap<>();

    /** Creates this agent's probe file at {@code probeFile}. */
    public ShmBackend(TransferContext context, Path probeFile) {
        this.context = context;
        this.probe = ShmProbe.create(probeFile);
    }

    @Override
    public String name() {
        return "shm";
    }

    @Override
    public void register(RegisteredRegion region) {
        if (region.path() == null) throw new TransferException("shm needs file-backed regions: " + region.label());
    }

    /** The probe file's path (UTF-8). */
    @Override
    public byte[] payload() {
        return probe.path().toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@code nonce}, read by a peer from this agent's probe file, is the one written there (constant time). */
    public boolean confirms(byte[] nonce) {
        return probe.confirms(nonce);
    }

    @Override
    public boolean canReach(AgentMetadata self, AgentMetadata peer) {
        return peer.offers(name());
    }

    /**
     * Maps the peer's probe file and region files. Afterwards {@link #nonce} is what this process read from the
     * peer's probe file; the mapping is to be used only once the peer confirmed it.
     */
    @Override
    public void loadPeer(AgentMetadata peer) {
        byte[] payload = peer.backendPayloads().get(name());
        if (payload == null || payload.length == 0) throw new TransferException("peer " + peer.agent() + " offers shm without a probe file");
        Path probeFile = Path.of(new String(payload, StandardCharsets.UTF_8));
        Arena arena = Arena.ofShared();
        Map<Integer, MemorySegment> regions = new HashMap<>();
        byte[] nonce;
        try {
            nonce = ShmProbe.read(probeFile, arena);
            for (RegionInfo r : peer.regions()) {
                if (r.path() == null) throw new TransferException("region " + r.id() + " has no file");
                Path file = Path.of(r.path());
                if (!probeFile.getParent().equals(file.getParent())) {
                    throw new TransferException("region file " + file + " is not beside the probe file " + probeFile);
                }
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    if (ch.size() < r.size()) throw new TransferException("region file " + file + " is shorter than " + r.size());
                    regions.put(r.id(), ch.map(FileChannel.MapMode.READ_WRITE, 0, r.size(), arena));
                }
            }
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw new TransferException("shm cannot map the memory of " + peer.agent() + ": " + e.getMessage(), e);
        }
        Mapped old = peers.put(peer.agent(), new Mapped(arena, regions, nonce));
        if (old != null) old.arena.close();
    }

    /** The nonce read from the peer's probe file by {@link #loadPeer}. */
    public byte[] nonce(String agent) {
        Mapped m = peers.get(agent);
        if (m == null) throw new TransferException("shm: peer " + agent + " not loaded");
        return m.nonce.clone();
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
        probe.delete();
    }
}
