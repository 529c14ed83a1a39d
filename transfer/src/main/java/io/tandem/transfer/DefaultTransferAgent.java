package io.tandem.transfer;

import io.tandem.transfer.control.ControlConnection;
import io.tandem.transfer.shm.ShmBackend;
import io.tandem.transfer.tcp.TcpBackend;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * The agent: owns registered memory, the control channel (a server for peers' connections, one client connection
 * per loaded peer), the backend chosen per peer, notifications and transfer timeouts. Posting validates at once and
 * never blocks; the data moves on event loops (tcp) or the native worker pool (shm, ucx, nixl).
 */
final class DefaultTransferAgent implements TransferAgent {
    private static final System.Logger LOG = System.getLogger(DefaultTransferAgent.class.getName());

    /** A loaded peer; {@code connection} is replaced when the previous one closed (guarded by the peer's lock). */
    private static final class Peer {
        final AgentMetadata metadata;
        final TransferBackend backend;
        CompletableFuture<ControlConnection> connection;

        Peer(AgentMetadata metadata, TransferBackend backend) {
            this.metadata = metadata;
            this.backend = backend;
        }
    }

    private final Vertx vertx;
    private final TransferConfig config;
    private final WorkerExecutor pool;
    private final RegionMemory memory = new RegionMemory();
    private final List<TransferBackend> backends;
    private final Map<Integer, RegisteredRegion> regions = new ConcurrentHashMap<>();
    private final AtomicInteger nextRegion = new AtomicInteger();
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final Set<ControlConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<CompletableFuture<Void>> inFlight = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Notification> notifications = new ConcurrentLinkedQueue<>();
    private final NetClient client;
    private volatile Consumer<Notification> notificationHandler = n -> { };
    private volatile NetServer server;
    private volatile boolean closed;

    DefaultTransferAgent(Vertx vertx, TransferConfig config, WorkerExecutor pool) {
        this.vertx = vertx;
        this.config = config;
        this.pool = pool;
        this.backends = Backends.create(new TransferContext(config, vertx, pool), this::connection);
        if (Backends.needsFiles(config.backend())) StaleRegionFiles.sweep(Path.of(config.shmDirectory()));
        int connectMillis = (int) Math.min(config.timeout().toMillis(), 5_000);
        this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(connectMillis).setTcpNoDelay(true));
    }

    Future<TransferAgent> listen() {
        NetServer s = vertx.createNetServer(new NetServerOptions().setHost(config.host()).setPort(config.port())
                .setTcpNoDelay(true));
        s.connectHandler(socket -> {
            ControlConnection c = new ControlConnection(socket, "peer at " + socket.remoteAddress(), this::slice,
                    this::deliver, vertx, config.timeout());
            connections.add(c.onClose(() -> connections.remove(c)));
        });
        server = s;
        return s.listen().<TransferAgent>map(x -> this).onFailure(e -> close());
    }

    @Override
    public String name() {
        return config.agentName();
    }

    @Override
    public String backend() {
        return config.backend();
    }

    @Override
    public RegisteredRegion register(String label, long bytes) {
        if (closed) throw new TransferException("agent " + name() + " is closed");
        if (bytes <= 0) throw new TransferException("region size must be positive: " + bytes);
        int id = nextRegion.getAndIncrement();
        String path = null;
        MemorySegment segment;
        if (Backends.needsFiles(config.backend())) {
            Path file = Path.of(config.shmDirectory(), StaleRegionFiles.name(safe(name()), id, safe(label)));
            segment = memory.file(file, bytes);
            path = file.toString();
        } else {
            segment = memory.anonymous(bytes);
        }
        RegisteredRegion region = new RegisteredRegion(id, label, segment, path);
        for (TransferBackend b : backends) b.register(region);
        regions.put(id, region);
        return region;
    }

    @Override
    public List<RegisteredRegion> regions() {
        return regions.values().stream().sorted(Comparator.comparingInt(RegisteredRegion::id)).toList();
    }

    @Override
    public AgentMetadata metadata() {
        Map<String, byte[]> payloads = new LinkedHashMap<>();
        for (TransferBackend b : backends) payloads.put(b.name(), b.payload());
        return new AgentMetadata(name(), HostId.get(), config.host(), server.actualPort(),
                regions().stream().map(RegisteredRegion::info).toList(), payloads);
    }

    @Override
    public String loadPeer(AgentMetadata peer) {
        AgentMetadata self = metadata();
        TransferBackend chosen = null;
        if (config.backend().equals("auto")) {
            for (TransferBackend b : backends) {
                boolean offered = b instanceof TcpBackend || peer.offers(b.name());
                if (offered && b.canReach(self, peer)) {
                    chosen = b;
                    break;
                }
            }
        } else if (backends.getFirst().canReach(self, peer)) {
            chosen = backends.getFirst();
        }
        if (chosen == null) {
            String why = config.backend().equals("shm") ? ShmBackend.unreachableReason(self, peer).orElse("")
                    : "peer offers " + peer.backendPayloads().keySet();
            throw new TransferException(config.backend() + " backend cannot reach peer " + peer.agent() + ": " + why);
        }
        chosen.loadPeer(peer);
        Peer old = peers.put(peer.agent(), new Peer(peer, chosen));
        if (old != null) dropConnection(old);
        return chosen.name();
    }

    @Override
    public void forgetPeer(String peer) {
        Peer p = peers.remove(peer);
        if (p == null) return;
        p.backend.forgetPeer(peer);
        dropConnection(p);
    }

    @Override
    public String backendFor(String peer) {
        Peer p = peers.get(peer);
        return p == null ? null : p.backend.name();
    }

    @Override
    public TransferHandle post(TransferOp op, List<MemoryDescriptor> local, String peer, List<MemoryDescriptor> remote,
                               byte[] notification) {
        if (closed) throw new TransferException("agent " + name() + " is closed");
        Peer p = peers.get(peer);
        if (p == null) throw new TransferException("unknown peer " + peer + " (load its metadata first)");
        if (local.isEmpty() || local.size() != remote.size()) {
            throw new TransferException("descriptor lists must be non-empty and equally long: " + local.size() + " local, "
                    + remote.size() + " remote");
        }
        List<MemorySegment> slices = new ArrayList<>(local.size());
        long bytes = 0;
        for (int i = 0; i < local.size(); i++) {
            MemoryDescriptor l = local.get(i), r = remote.get(i);
            if (l.length() != r.length()) throw new TransferException("descriptor " + i + ": local length " + l.length()
                    + " != remote length " + r.length());
            slices.add(slice(l.region(), l.offset(), l.length()));
            checkRemote(p.metadata, r);
            bytes += l.length();
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        inFlight.add(done);
        long timer = vertx.setTimer(config.timeout().toMillis(), t -> done.completeExceptionally(
                new TransferException("transfer to " + peer + " timed out after " + config.timeout())));
        done.whenComplete((v, e) -> {
            inFlight.remove(done);
            vertx.cancelTimer(timer);
        });
        connection(peer)
                .thenCompose(c -> p.backend.transfer(op, local, slices, p.metadata, remote)
                        .thenCompose(v -> notification == null ? CompletableFuture.completedFuture(null)
                                : c.notify(name(), notification)))
                .whenComplete((v, e) -> {
                    if (e == null) done.complete(null);
                    else done.completeExceptionally(transferException(e));
                });
        return new TransferHandle(peer, p.backend.name(), bytes, done);
    }

    @Override
    public List<Notification> takeNotifications() {
        List<Notification> out = new ArrayList<>();
        for (Notification n; (n = notifications.poll()) != null; ) out.add(n);
        return out;
    }

    @Override
    public void onNotification(Consumer<Notification> handler) {
        notificationHandler = handler;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        for (CompletableFuture<Void> f : inFlight) f.completeExceptionally(new TransferException("agent " + name() + " closed"));
        List<Future<?>> closing = new ArrayList<>();
        for (ControlConnection c : connections) closing.add(c.close());
        if (server != null) closing.add(server.close());
        closing.add(client.close());
        // the sockets may still read registered memory: let them close before it is unmapped (never wait on a Vert.x thread)
        if (Context.isOnVertxThread()) LOG.log(System.Logger.Level.DEBUG, "closing agent on a Vert.x thread, not waiting");
        else await(Future.join(closing));
        for (TransferBackend b : backends) {
            try {
                b.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing backend " + b.name() + ": " + e);
            }
        }
        try {
            memory.close();
        } catch (IllegalStateException e) {
            // a segment still in use (closed from a Vert.x thread without waiting): the arena stays until exit
            LOG.log(System.Logger.Level.WARNING, "agent " + name() + ": registered memory still in use, not freed: " + e);
        }
        pool.close();
    }

    /** Resolves a local descriptor (ours, or one a peer sent us) against the registered regions. */
    private MemorySegment slice(int region, long offset, long length) {
        RegisteredRegion r = regions.get(region);
        if (r == null) throw new TransferException("agent " + name() + " has no region " + region);
        if (length <= 0 || offset < 0 || offset > r.size() - length) {
            throw new TransferException("bytes [" + offset + ", " + (offset + length) + ") out of bounds of region " + region
                    + " of agent " + name() + " (size " + r.size() + ")");
        }
        return r.memory().asSlice(offset, length);
    }

    private static void checkRemote(AgentMetadata peer, MemoryDescriptor d) {
        RegionInfo r = peer.region(d.region());
        if (d.offset() > r.size() - d.length()) {
            throw new TransferException("bytes [" + d.offset() + ", " + d.end() + ") out of bounds of region " + d.region()
                    + " of peer " + peer.agent() + " (size " + r.size() + ")");
        }
    }

    /** The control connection to a loaded peer, connecting (again) when there is none or it closed. */
    private CompletableFuture<ControlConnection> connection(String peer) {
        Peer p = peers.get(peer);
        if (p == null) return CompletableFuture.failedFuture(new TransferException("unknown peer " + peer));
        synchronized (p) {
            CompletableFuture<ControlConnection> c = p.connection;
            boolean usable = c != null && (!c.isDone() || (!c.isCompletedExceptionally() && !c.join().isClosed()));
            if (!usable) p.connection = c = connect(p.metadata);
            return c;
        }
    }

    private CompletableFuture<ControlConnection> connect(AgentMetadata peer) {
        return client.connect(peer.controlPort(), peer.controlHost())
                .map(socket -> {
                    ControlConnection c = new ControlConnection(socket, peer.agent(), this::slice, this::deliver, vertx,
                            config.timeout());
                    connections.add(c.onClose(() -> connections.remove(c)));
                    return c;
                })
                .recover(e -> Future.failedFuture(new TransferException("cannot connect to peer " + peer.agent() + " at "
                        + peer.controlHost() + ":" + peer.controlPort() + ": " + e.getMessage(), e)))
                .toCompletionStage().toCompletableFuture();
    }

    private void dropConnection(Peer p) {
        CompletableFuture<ControlConnection> c;
        synchronized (p) {
            c = p.connection;
        }
        if (c != null) c.thenAccept(ControlConnection::close);
    }

    private void deliver(Notification n) {
        notifications.add(n);
        try {
            notificationHandler.accept(n);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "notification handler failed", e);
        }
    }

    private static TransferException transferException(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c instanceof TransferException t ? t : new TransferException(String.valueOf(c.getMessage()), c);
    }

    private static void await(Future<?> f) {
        try {
            f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "waiting for the control channel to close: " + e);
        }
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
