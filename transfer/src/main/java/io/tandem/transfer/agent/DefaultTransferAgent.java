package io.tandem.transfer.agent;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.Notification;
import io.tandem.transfer.RegionInfo;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferHandle;
import io.tandem.transfer.TransferOp;
import io.tandem.transfer.TransferStats;
import io.tandem.transfer.WriteFences;
import io.tandem.transfer.control.ControlConnection;
import io.tandem.transfer.control.FenceTable;
import io.tandem.transfer.control.Refusals;
import io.tandem.transfer.control.Served;
import io.tandem.transfer.control.ServedConnection;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The agent: owns registered memory, the control channel (a server that authenticates and serves peers' connections,
 * one authenticated client connection per loaded peer), the backend chosen per peer, write fences, notifications and
 * transfer timeouts. Posting validates at once and never blocks; the data moves on event loops (tcp) or the native
 * worker pool (shm, ucx, nixl). One-sided backends are wrapped in the same protocol here, so none of them needs fence
 * code: a fenced WRITE first takes a lease from the receiver, and every one-sided transfer completes only once the
 * receiver acknowledged it (releasing the lease, delivering the notification).
 */
public final class DefaultTransferAgent implements TransferAgent {
    private static final System.Logger LOG = System.getLogger(DefaultTransferAgent.class.getName());

    /** A loaded peer; {@code connection} is replaced when the previous one closed (guarded by the peer's lock). */
    private static final class Peer {
        final AgentMetadata metadata;
        final TransferBackend backend;
        CompletableFuture<ControlConnection> connection;

        Peer(AgentMetadata metadata, TransferBackend backend, CompletableFuture<ControlConnection> connection) {
            this.metadata = metadata;
            this.backend = backend;
            this.connection = connection;
        }
    }

    private final Vertx vertx;
    private final TransferConfig config;
    private final WorkerExecutor pool;
    private final RegionMemory memory = new RegionMemory();
    /** Every backend created, for closing; {@link #backends} are the ones offered and chosen from. */
    private final List<TransferBackend> created;
    private volatile List<TransferBackend> backends;
    private volatile String effectiveBackend;
    private volatile boolean fileBacked;
    private final ShmBackend shm;
    private final Map<Integer, RegisteredRegion> regions = new ConcurrentHashMap<>();
    private final AtomicInteger nextRegion = new AtomicInteger();
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final Set<ControlConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<ServedConnection> served = ConcurrentHashMap.newKeySet();
    private final Set<CompletableFuture<Void>> inFlight = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Notification> notifications = new ConcurrentLinkedQueue<>();
    private final FenceTable fences = new FenceTable();
    private final Refusals refusals = new Refusals();
    private final ControlConnection.Self self;
    private final NetClient client;
    private final int connectMillis;
    private volatile Consumer<Notification> notificationHandler = n -> { };
    private volatile NetServer server;
    private volatile boolean closed;
    /** Test hook: what a leased one-sided write waits for after its lease was granted, before the data moves. */
    private volatile Supplier<CompletableFuture<Void>> afterLease = () -> CompletableFuture.completedFuture(null);

    DefaultTransferAgent(Vertx vertx, TransferConfig config, WorkerExecutor pool) {
        this.vertx = vertx;
        this.config = config;
        this.pool = pool;
        this.fileBacked = Backends.needsFiles(config.backend());
        if (fileBacked) StaleRegionFiles.sweep(Path.of(config.shmDirectory()));
        Path probe = Path.of(config.shmDirectory(), StaleRegionFiles.probeName(safe(name())));
        this.created = new java.util.concurrent.CopyOnWriteArrayList<>(Backends.create(new TransferContext(config, vertx, pool),
                this::connection, probe));
        this.backends = List.copyOf(created);
        this.effectiveBackend = config.backend();
        this.shm = created.stream().filter(b -> b instanceof ShmBackend).map(b -> (ShmBackend) b).findFirst().orElse(null);
        this.self = new ControlConnection.Self(name(), config.identity(), config.secret());
        this.connectMillis = (int) Math.min(config.timeout().toMillis(), 5_000);
        NetClientOptions options = new NetClientOptions().setConnectTimeout(connectMillis).setTcpNoDelay(true);
        this.client = vertx.createNetClient(config.tls() == null ? options : config.tls().applyTo(options));
    }

    /**
     * Creates an agent with its backends (on the native pool: ucx/nixl initialisation is native and may block) and
     * starts its control channel. Fails with a {@link TransferException} when a configured backend is unavailable.
     */
    public static Future<TransferAgent> open(Vertx vertx, TransferConfig config) {
        WorkerExecutor pool = vertx.createSharedWorkerExecutor(TransferConfig.NATIVE_POOL_NAME, config.nativePoolSize());
        return pool.executeBlocking(() -> new DefaultTransferAgent(vertx, config, pool), false)
                .onFailure(e -> pool.close())
                .compose(DefaultTransferAgent::listen);
    }

    private Future<TransferAgent> listen() {
        NetServerOptions options = new NetServerOptions().setHost(config.host()).setPort(config.port()).setTcpNoDelay(true);
        NetServer s = vertx.createNetServer(config.tls() == null ? options : config.tls().applyTo(options));
        Served services = new Served(name(), config.identity(), config.secret(), config.requireFences(), this::slice, fences,
                nonce -> shm != null && shm.confirms(nonce), this::deliver, refusals, config.handshakeTimeout());
        s.connectHandler(socket -> {
            ServedConnection c = new ServedConnection(socket, services, vertx);
            served.add(c.onClose(() -> served.remove(c)));
        });
        // with TLS, what fails before a connection reaches the handler is its TLS handshake
        s.exceptionHandler(e -> {
            if (config.tls() != null) {
                refusals.count("tls");
                String why = String.valueOf(e);
                LOG.log(System.Logger.Level.WARNING, "refused a control connection (tls): " + (why.length() > 200 ? why.substring(0, 200) + "..." : why));
            } else {
                LOG.log(System.Logger.Level.DEBUG, "control channel: " + e);
            }
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
        return effectiveBackend;
    }

    @Override
    public RegisteredRegion register(String label, long bytes) {
        if (closed) throw new TransferException("agent " + name() + " is closed");
        if (bytes <= 0) throw new TransferException("region size must be positive: " + bytes);
        synchronized (memory) { // one at a time: a region that finds no room turns shm off for all that follow
            int id = nextRegion.getAndIncrement();
            String path = null;
            MemorySegment segment = null;
            if (fileBacked) {
                Path file = Path.of(config.shmDirectory(), StaleRegionFiles.name(safe(name()), id, safe(label)));
                try {
                    segment = memory.file(file, bytes);
                    path = file.toString();
                } catch (RegionMemory.NoFile e) {
                    stopOfferingShm(label, bytes, e.getMessage());
                }
            }
            if (segment == null) segment = memory.anonymous(bytes);
            RegisteredRegion region = new RegisteredRegion(id, label, segment, path);
            for (TransferBackend b : backends) b.register(region);
            regions.put(id, region);
            return region;
        }
    }

    /** shm needs every region as a file: once one cannot be, shm is no longer offered (nor chosen), tcp replaces a lone shm. */
    private void stopOfferingShm(String label, long bytes, String why) {
        fileBacked = false;
        List<TransferBackend> rest = new ArrayList<>(backends);
        rest.removeIf(b -> b instanceof ShmBackend);
        LOG.log(System.Logger.Level.WARNING, "agent " + name() + ": shm region '" + label + "' (" + RegionMemory.mib(bytes)
                + ") cannot be a file in " + config.shmDirectory() + ": " + why + ". It is allocated anonymously, and this agent"
                + " no longer offers shm (raise shm_size, the size of " + config.shmDirectory() + ", to use it)");
        if (rest.isEmpty()) {
            TcpBackend tcp = new TcpBackend(this::connection);
            for (RegisteredRegion r : regions.values()) tcp.register(r);
            rest.add(tcp);
            created.add(tcp);
            effectiveBackend = tcp.name();
            LOG.log(System.Logger.Level.WARNING, "agent " + name() + ": backend shm was configured; using tcp instead");
        }
        backends = List.copyOf(rest);
    }

    @Override
    public List<RegisteredRegion> regions() {
        return regions.values().stream().sorted(Comparator.comparingInt(RegisteredRegion::id)).toList();
    }

    @Override
    public AgentMetadata metadata() {
        Map<String, byte[]> payloads = new LinkedHashMap<>();
        for (TransferBackend b : backends) payloads.put(b.name(), b.payload());
        return new AgentMetadata(name(), HostId.get(), config.advertisedHost(), server.actualPort(),
                regions().stream().map(RegisteredRegion::info).toList(), payloads, config.identity());
    }

    @Override
    public String loadPeer(AgentMetadata peer) {
        if (closed) throw new TransferException("agent " + name() + " is closed");
        if (Context.isOnEventLoopThread()) {
            throw new IllegalStateException("loadPeer blocks (it connects and authenticates): call it on a worker thread, not an event loop");
        }
        if (peer.identity() == null) {
            throw new TransferException("the metadata of agent " + peer.agent() + " carries no identity: it cannot be checked, not loaded");
        }
        if (peer.agent().equals(name()) && peer.identity().epoch() == config.identity().epoch()) {
            throw new TransferException("refusing to load this agent's own metadata (agent " + name() + " epoch "
                    + Long.toUnsignedString(config.identity().epoch(), 16) + "): a peer's address that leads back here is misadvertised");
        }
        CompletableFuture<ControlConnection> connecting = connect(peer);
        ControlConnection c = await(connecting, connectMillis + config.handshakeTimeout().toMillis() + 1_000, "connecting to " + peer.agent());
        try {
            TransferBackend chosen = choose(peer, c);
            Peer old = peers.put(peer.agent(), new Peer(peer, chosen, connecting));
            if (old != null) {
                dropConnection(old);
                if (old.backend != chosen) old.backend.forgetPeer(peer.agent());
            }
            return chosen.name();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The first backend that reaches the peer (auto), or the configured one; why not, per backend, otherwise. */
    private TransferBackend choose(AgentMetadata peer, ControlConnection c) {
        List<TransferBackend> candidates = backends;
        boolean auto = config.backend().equals("auto");
        if (!auto) candidates = List.of(candidates.getFirst());
        AgentMetadata me = metadata();
        List<String> why = new ArrayList<>();
        for (TransferBackend b : candidates) {
            String reason = unusable(b, me, peer, c);
            if (reason == null) return b;
            why.add(b.name() + ": " + reason);
            if (auto) LOG.log(System.Logger.Level.INFO, "agent " + name() + " does not use " + b.name() + " with peer "
                    + peer.agent() + " (" + reason + "); trying the next backend");
        }
        throw new TransferException(backend() + " backend cannot reach peer " + peer.agent() + ": " + String.join("; ", why));
    }

    /** Null when {@code b} can carry transfers with the peer (prepared for it), else why not. */
    private String unusable(TransferBackend b, AgentMetadata me, AgentMetadata peer, ControlConnection c) {
        if (b instanceof TcpBackend) return null;
        if (!b.canReach(me, peer)) return "peer " + peer.agent() + " does not offer " + b.name();
        try {
            b.loadPeer(peer);
            if (b instanceof ShmBackend s) {
                try {
                    await(c.proveShm(s.nonce(peer.agent())), config.timeout().toMillis(), "proving shm to " + peer.agent());
                } catch (RuntimeException e) {
                    s.forgetPeer(peer.agent());
                    throw e;
                }
            }
            return null;
        } catch (TransferException e) {
            return e.getMessage();
        }
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
                               byte[] notification, long fence) {
        if (closed) throw new TransferException("agent " + name() + " is closed");
        Peer p = peers.get(peer);
        if (p == null) throw new TransferException("unknown peer " + peer + " (load its metadata first)");
        if (op == TransferOp.READ && fence != 0) throw new TransferException("a READ takes no fence (got token " + fence + ")");
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
                .thenCompose(c -> p.backend instanceof TcpBackend tcp
                        ? tcp.transfer(c, op, slices, remote, notification, fence)
                        : oneSided(c, p, op, local, slices, remote, notification, fence))
                .whenComplete((v, e) -> {
                    if (e == null) done.complete(null);
                    else done.completeExceptionally(transferException(e));
                });
        return new TransferHandle(peer, p.backend.name(), bytes, done);
    }

    /**
     * A transfer of a backend that moves data without the control connection: [lease] → data → DONE → ACK. The lease
     * (fenced WRITEs, and unfenced ones to a peer that requires fences, which refuses them) pins the token at the
     * receiver while the data moves; DONE releases it and carries the notification; the ACK proves the receiver is
     * alive, so a transfer to a peer that died fails instead of succeeding. A failed data move still releases the lease.
     */
    private CompletableFuture<Void> oneSided(ControlConnection c, Peer p, TransferOp op, List<MemoryDescriptor> local,
                                             List<MemorySegment> slices, List<MemoryDescriptor> remote, byte[] notification,
                                             long fence) {
        boolean leased = op == TransferOp.WRITE && (fence != 0 || c.peerRequiresFences());
        CompletableFuture<Long> lease = leased
                ? c.lease(fence, remote).thenCompose(id -> afterLease.get().thenApply(v -> id))
                : CompletableFuture.completedFuture(0L);
        return lease.thenCompose(id -> {
            CompletableFuture<Void> moved;
            try {
                moved = p.backend.transfer(op, local, slices, p.metadata, remote);
            } catch (RuntimeException e) {
                moved = CompletableFuture.failedFuture(e);
            }
            return moved.handle((v, e) -> e).thenCompose(error -> {
                if (error == null) return c.done(id, notification);
                if (id == 0) return CompletableFuture.failedFuture(error);
                return c.done(id, null).handle((v, e) -> null).thenCompose(v -> CompletableFuture.failedFuture(error));
            });
        });
    }

    /** Test hook: leased one-sided writes wait for the supplied future after their lease, before the data moves. */
    void afterLease(Supplier<CompletableFuture<Void>> hook) {
        afterLease = hook;
    }

    @Override
    public WriteFences fences() {
        return fences;
    }

    @Override
    public TransferStats stats() {
        return new TransferStats(refusals.snapshot(), fences.fenced());
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
        for (ServedConnection c : served) closing.add(c.close());
        if (server != null) closing.add(server.close());
        closing.add(client.close());
        // the sockets may still read registered memory: let them close before it is unmapped (never wait on a Vert.x thread)
        if (Context.isOnVertxThread()) LOG.log(System.Logger.Level.DEBUG, "closing agent on a Vert.x thread, not waiting");
        else awaitQuietly(Future.join(closing));
        for (TransferBackend b : created) {
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

    /** The control connection to a loaded peer, connecting (and authenticating) again when it closed. */
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

    /** Connects to the peer's control channel and runs the handshake, checking it reaches the agent the metadata names. */
    private CompletableFuture<ControlConnection> connect(AgentMetadata peer) {
        return client.connect(peer.controlPort(), peer.controlHost())
                .recover(e -> Future.failedFuture(new TransferException("cannot connect to peer " + peer.agent() + " at "
                        + peer.controlHost() + ":" + peer.controlPort() + ": " + e.getMessage(), e)))
                .toCompletionStage().toCompletableFuture()
                .thenCompose(socket -> ControlConnection.open(socket, self, peer.agent(), peer.identity(), vertx, config.timeout(),
                        config.handshakeTimeout(), refusals))
                .thenApply(c -> {
                    connections.add(c);
                    c.onClose(() -> connections.remove(c));
                    if (closed) c.close();
                    return c;
                });
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

    /** Waits for {@code f} on this (non-event-loop) thread; its failure, or the wait's, as a TransferException. */
    private static <T> T await(CompletableFuture<T> f, long millis, String what) {
        try {
            return f.get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw transferException(e.getCause());
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new TransferException(what + " took longer than " + millis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransferException("interrupted while " + what);
        }
    }

    private static void awaitQuietly(Future<?> f) {
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
