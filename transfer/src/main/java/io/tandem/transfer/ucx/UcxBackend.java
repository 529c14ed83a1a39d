package io.tandem.transfer.ucx;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferOp;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * The UCX backend: one-sided {@code ucp_put_nbx}/{@code ucp_get_nbx} into the peer's {@code ucp_mem_map}ped regions,
 * over whatever transports UCX picks (rdma, tcp, shared memory). Every UCX call runs on the backend's own progress
 * thread ({@link UcxWorker}); this class only hands it commands. The transports can be restricted with the system
 * property {@value #TLS_PROPERTY} (as UCX_TLS, e.g. {@code tcp} or {@code posix,sysv,cma,self}); UCX_TLS in the
 * environment works too.
 */
public final class UcxBackend implements TransferBackend {
    public static final String NAME = "ucx";
    public static final String TLS_PROPERTY = "tandem.ucx.tls";
    private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private record LocalRegion(RegisteredRegion region, MemorySegment memh, byte[] rkey) {
    }

    private static volatile Optional<String> unavailable;

    private final TransferContext ctx;
    private final UcxWorker worker;
    // progress thread only
    private final Map<Integer, LocalRegion> locals = new LinkedHashMap<>();
    private final Map<String, UcxPeer> peers = new HashMap<>();

    public UcxBackend(TransferContext ctx) {
        unavailableReason().ifPresent(reason -> {
            throw new TransferException("UCX is unavailable: " + reason);
        });
        this.ctx = ctx;
        this.worker = new UcxWorker(System.getProperty(TLS_PROPERTY));
    }

    /** Empty when libucp loads and a UCP context can be created here; otherwise why not. Never throws. */
    public static Optional<String> unavailableReason() {
        Optional<String> u = unavailable;
        if (u == null) unavailable = u = probe();
        return u;
    }

    private static Optional<String> probe() {
        try {
            Class.forName(Ucp.class.getName(), true, UcxBackend.class.getClassLoader());
        } catch (Throwable t) {
            Throwable c = t instanceof ExceptionInInitializerError e && e.getCause() != null ? e.getCause() : t;
            if (c instanceof IllegalArgumentException) return Optional.of("libucp.so.0 not found (install libucx0): " + c.getMessage());
            return Optional.of("cannot bind libucp.so.0: " + c);
        }
        try {
            new UcxWorker(System.getProperty(TLS_PROPERTY)).shutdown(() -> { });
            return Optional.empty();
        } catch (Throwable t) {
            return Optional.of("cannot create a UCP context: " + t.getMessage());
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void register(RegisteredRegion region) {
        worker.call(() -> {
            if (locals.containsKey(region.id())) throw new TransferException("region " + region.id() + " is already registered with ucx");
            MemorySegment memh = worker.memMap(region.memory());
            try {
                locals.put(region.id(), new LocalRegion(region, memh, worker.rkeyPack(memh)));
            } catch (Throwable t) {
                worker.memUnmap(memh);
                throw t;
            }
            return null;
        });
    }

    @Override
    public byte[] payload() {
        return worker.call(() -> {
            List<UcxPayload.Region> regions = new ArrayList<>();
            for (LocalRegion l : locals.values()) {
                MemorySegment m = l.region().memory();
                regions.add(new UcxPayload.Region(l.region().id(), m.address(), m.byteSize(), l.rkey()));
            }
            return new UcxPayload(worker.address(), regions).encode();
        });
    }

    @Override
    public boolean canReach(AgentMetadata self, AgentMetadata peer) {
        return peer.offers(NAME);
    }

    @Override
    public void loadPeer(AgentMetadata peer) {
        byte[] bytes = peer.backendPayloads().get(NAME);
        if (bytes == null) throw new TransferException("agent " + peer.agent() + " does not offer ucx");
        UcxPayload payload = UcxPayload.decode(bytes);
        worker.call(() -> {
            UcxPeer p = peers.get(peer.agent());
            if (p != null && !Arrays.equals(p.workerAddress, payload.workerAddress())) {
                close(p, "agent " + peer.agent() + " restarted");
                p = null;
            }
            if (p == null) {
                p = new UcxPeer(peer.agent(), payload.workerAddress(), worker.epCreate(payload.workerAddress()));
                peers.put(p.name, p);
            }
            unpackRkeys(p, payload);
            return null;
        });
    }

    /** Unpacks the rkeys of new or changed regions, keeps the unchanged ones (transfers may be using them). */
    private void unpackRkeys(UcxPeer p, UcxPayload payload) throws Throwable {
        Map<Integer, UcxPeer.Remote> fresh = new HashMap<>();
        for (UcxPayload.Region r : payload.regions()) {
            UcxPeer.Remote old = p.regions.get(r.id());
            fresh.put(r.id(), r.sameAs(old == null ? null : old.region()) ? old : new UcxPeer.Remote(r, worker.rkeyUnpack(p.ep, r.rkey())));
        }
        for (UcxPeer.Remote old : p.regions.values()) {
            if (fresh.get(old.region().id()) != old) worker.rkeyDestroy(old.rkey());
        }
        p.regions.clear();
        p.regions.putAll(fresh);
    }

    @Override
    public void forgetPeer(String agent) {
        worker.call(() -> {
            UcxPeer p = peers.remove(agent);
            if (p != null) close(p, "peer " + agent + " was forgotten");
            return null;
        });
    }

    /**
     * Fails the peer's transfers, then releases rkeys and endpoint in the order UCX requires: rkeys only once no
     * request uses them. Requests still in flight are cancelled by a forced close, which UCX allows only in peer error
     * mode; without it (shared memory) the close flushes, and rkeys that stuck requests may still use are leaked
     * rather than freed under them.
     */
    private void close(UcxPeer p, String reason) throws Throwable {
        worker.abortTransfers(p, reason);
        boolean inFlight = p.active > 0 || p.abandonedRequests;
        if (!inFlight) for (UcxPeer.Remote r : p.regions.values()) worker.rkeyDestroy(r.rkey());
        worker.epClose(p.ep, inFlight && p.peerFailureDetection, CLOSE_WAIT_NANOS);
        if (inFlight && p.peerFailureDetection) for (UcxPeer.Remote r : p.regions.values()) worker.rkeyDestroy(r.rkey());
        p.regions.clear();
    }

    @Override
    public CompletableFuture<Void> transfer(TransferOp op, List<MemoryDescriptor> local, List<MemorySegment> localSlices,
                                            AgentMetadata peer, List<MemoryDescriptor> remote) {
        if (local.size() != remote.size() || local.size() != localSlices.size()) {
            return CompletableFuture.failedFuture(new TransferException("descriptor lists differ in length"));
        }
        for (int i = 0; i < local.size(); i++) {
            if (local.get(i).length() != remote.get(i).length() || localSlices.get(i).byteSize() != local.get(i).length()) {
                return CompletableFuture.failedFuture(new TransferException("descriptor " + i + ": lengths differ"));
            }
        }
        long timeout = ctx.config().timeout().toNanos();
        CompletableFuture<UcxTransfer> started = worker.submit(() -> {
            UcxPeer p = peers.get(peer.agent());
            if (p == null) throw new TransferException("peer " + peer.agent() + " is not loaded in ucx");
            List<UcxTransfer.Op> ops = new ArrayList<>(remote.size());
            for (int i = 0; i < remote.size(); i++) {
                MemoryDescriptor d = remote.get(i);
                UcxPeer.Remote r = p.regions.get(d.region());
                if (r == null) throw new TransferException("peer " + peer.agent() + " has no ucx region " + d.region());
                if (d.end() > r.region().size()) throw new TransferException("descriptor " + i + " ends past region " + d.region());
                ops.add(new UcxTransfer.Op(localSlices.get(i), r.region().base() + d.offset(), r.rkey()));
            }
            UcxTransfer t = new UcxTransfer(p, op == TransferOp.WRITE, System.nanoTime() + timeout, worker.defaultParam);
            worker.start(t, ops);
            return t;
        });
        // completions hop off the progress thread so callers' callbacks never stall UCX
        return started.thenCompose(t -> t.future).whenCompleteAsync((v, e) -> { }, ForkJoinPool.commonPool());
    }

    @Override
    public void close() {
        worker.shutdown(() -> {
            try {
                for (UcxPeer p : peers.values()) close(p, "UCX backend closed");
                peers.clear();
                for (LocalRegion l : locals.values()) worker.memUnmap(l.memh());
                locals.clear();
            } catch (Throwable t) {
                throw Ucp.rethrow(t);
            }
        });
    }
}
