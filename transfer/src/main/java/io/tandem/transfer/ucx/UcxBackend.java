package io.tandem.transfer.ucx;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferOp;
import io.tandem.transfer.nativelib.UcpLibrary;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;

/**
 * The UCX backend: one-sided {@code ucp_put_nbx}/{@code ucp_get_nbx} into the peer's {@code ucp_mem_map}ped regions,
 * over whatever transports UCX picks (rdma, tcp, shared memory). Every UCX call runs on the backend's own progress
 * thread ({@link UcxWorker}); this class only hands it commands. The transports can be restricted with the system
 * property {@value #TLS_PROPERTY} (as UCX_TLS, e.g. {@code tcp} or {@code posix,sysv,cma,self}) and the network
 * devices with {@value #NET_DEVICES_PROPERTY} (as UCX_NET_DEVICES, e.g. {@code lo}); the UCX_* variables in the
 * environment work too.
 *
 * <p>A dead peer: endpoints are created in UCX's peer error mode with an error callback, so when UCX detects the
 * failure (connection reset, keepalive) the peer's transfers fail at once, naming the peer and the UCX status, and the
 * next transfer reconnects ({@link UcxPeers}). Where no transport can detect peer failure (shared memory only), the
 * transfer timeout is the bound.
 *
 * <p>The library is the process's one UCX ({@link UcpLibrary}): Debian's libucx0 (1.13), or with {@code --nixl-home}
 * the UCX NIXL was built with (1.22), which NIXL shares. The bindings ({@link Ucp}) were checked against both layouts;
 * another version is refused with the reason.
 */
public final class UcxBackend implements TransferBackend {
    public static final String NAME = "ucx";
    public static final String TLS_PROPERTY = "tandem.ucx.tls";
    public static final String NET_DEVICES_PROPERTY = "tandem.ucx.net-devices";

    private record LocalRegion(RegisteredRegion region, MemorySegment memh, byte[] rkey) {
    }

    private static volatile Optional<String> unavailable;

    private final TransferContext ctx;
    private final UcxWorker worker;
    // progress thread only
    private final Map<Integer, LocalRegion> locals = new LinkedHashMap<>();
    private final UcxPeers peers;

    public UcxBackend(TransferContext ctx) {
        unavailableReason().ifPresent(reason -> {
            throw new TransferException("UCX is unavailable: " + reason);
        });
        this.ctx = ctx;
        String tls = System.getProperty(TLS_PROPERTY);
        this.worker = new UcxWorker(settings(), this::endpointFailed);
        this.peers = new UcxPeers(worker, ctx.config().timeout(),
                tls != null ? tls : System.getenv().getOrDefault("UCX_TLS", "UCX_TLS (unset)"));
    }

    /** The UCX configuration the system properties set (a missing property leaves UCX's own, or UCX_* from the environment). */
    private static Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("TLS", System.getProperty(TLS_PROPERTY));
        s.put("NET_DEVICES", System.getProperty(NET_DEVICES_PROPERTY));
        return s;
    }

    /** Empty when libucp loads and a UCP context can be created here; otherwise why not. Never throws. */
    public static Optional<String> unavailableReason() {
        Optional<String> u = unavailable;
        if (u == null) unavailable = u = probe();
        return u;
    }

    private static Optional<String> probe() {
        UcpLibrary.Ucp library;
        try {
            library = UcpLibrary.get();
        } catch (RuntimeException e) {
            return Optional.of("UCX not found (install libucx0, or pass --nixl-home to use the UCX NIXL was built with): "
                    + e.getMessage());
        }
        Optional<String> layout = UcpLayout.checked(library);
        if (layout.isPresent()) return layout;
        try {
            Class.forName(Ucp.class.getName(), true, UcxBackend.class.getClassLoader());
        } catch (Throwable t) {
            Throwable c = t instanceof ExceptionInInitializerError e && e.getCause() != null ? e.getCause() : t;
            return Optional.of("cannot bind " + library + ": " + c);
        }
        try {
            new UcxWorker(settings(), (id, status) -> { }).shutdown(() -> { });
            return Optional.empty();
        } catch (Throwable t) {
            return Optional.of("cannot create a UCP context with " + library + ": " + t.getMessage());
        }
    }

    /** The worker's endpoint error listener (progress thread; no endpoint exists before {@link #peers} is set). */
    private void endpointFailed(long endpointId, byte status) throws Throwable {
        peers.endpointFailed(endpointId, status);
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
            peers.load(peer.agent(), payload);
            return null;
        });
    }

    @Override
    public void forgetPeer(String agent) {
        worker.call(() -> {
            peers.forget(agent);
            return null;
        });
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
            UcxPeer p = peers.connected(peer.agent());
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
                peers.closeAll("UCX backend closed");
                for (LocalRegion l : locals.values()) worker.memUnmap(l.memh());
                locals.clear();
            } catch (Throwable t) {
                throw Ucp.rethrow(t);
            }
        });
    }
}
