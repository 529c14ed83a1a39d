package io.tandem.transfer.nixl;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferOp;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The NIXL backend: NIXL 1.4 through its C API ({@link NixlApi}, FFM), with NIXL's UCX plugin. Its agent registers
 * this agent's regions, its metadata is this backend's payload ({@link NixlPayload}, carried in {@link AgentMetadata}
 * and so through {@code /route}), peers' metadata is loaded into it, and a transfer is one NIXL transfer request
 * (WRITE or READ, all descriptors, with a NIXL notification), posted and polled until done; a failure is a
 * {@link TransferException} with the C API's status and the peer's name.
 *
 * <p><b>Threads.</b> Every native call runs on the agent's named worker pool ({@link TransferConfig#NATIVE_POOL_NAME},
 * {@code --transfer-threads}), inline when the caller already is one of its threads. No dedicated thread is needed:
 * NIXL does not require single-thread access when its agent is created with {@code NIXL_THREAD_SYNC_RW} (NIXL then
 * locks its own state: posting and polling share, registration and metadata exclude), and NIXL's own progress thread
 * drives UCX (in multi-threaded mode, which is why NIXL needs a UCX built with {@code --enable-mt}), so the memory
 * owner's side moves without any call from Tandem. A pool thread posts a request and polls its status until it ends,
 * spinning briefly and then parking with a backoff up to 1 ms; the transfer timeout bounds it.
 *
 * <p><b>Notifications.</b> Fences, acknowledgement and the caller's notification stay the agent's (leases and DONE
 * on the control connection, see {@link TransferBackend}). Each NIXL request also carries a NIXL notification, which
 * NIXL sends only once the request's data is in place at the peer (from the status poll that sees the data complete).
 * The receiving side drains NIXL's notification list every {@value #DRAIN_MILLIS} ms (NIXL keeps notifications until
 * taken: undrained they would pile up) and counts them per sending peer ({@link #notificationsFrom}).
 */
public final class NixlBackend implements TransferBackend {
    public static final String NAME = "nixl";
    static final long DRAIN_MILLIS = 250;
    private static final int SPINS = 64;
    private static final long MIN_PARK_NANOS = 10_000, MAX_PARK_NANOS = 1_000_000;
    private static final System.Logger LOG = System.getLogger(NixlBackend.class.getName());

    /** A loaded peer: its NIXL agent name and regions. */
    private record Remote(String nixlName, NixlPayload payload) {
    }

    /** The payload as of a number of registrations. */
    private record Payload(long registrations, byte[] bytes) {
    }

    private static volatile Optional<String> unavailable;

    private final TransferContext ctx;
    private final NixlAgent agent;
    private final Map<Integer, RegisteredRegion> locals = new ConcurrentHashMap<>();
    private final Map<String, Remote> peers = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> notifications = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    /** Transfers between post and release: close waits for them before it deregisters memory. */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final long drainTimer;
    private final AtomicLong registrations = new AtomicLong();
    private volatile Payload payload;
    private volatile boolean closed;

    public NixlBackend(TransferContext ctx) {
        this.ctx = Objects.requireNonNull(ctx);
        Objects.requireNonNull(ctx.nativePool(), "the nixl backend needs the agent's native pool");
        unavailableReason().ifPresent(reason -> {
            throw new TransferException(reason);
        });
        NixlApi api = NixlLibrary.get();
        this.agent = onPool(() -> NixlAgent.create(api, nixlName(ctx.config())));
        this.drainTimer = ctx.vertx().setPeriodic(DRAIN_MILLIS, id -> ctx.nativePool()
                .executeBlocking(() -> drainNotifications(), false));
    }

    /** This agent's NIXL name: its name and epoch, so a restarted agent is another NIXL agent to its peers. */
    static String nixlName(TransferConfig config) {
        return config.agentName() + "@" + Long.toHexString(config.identity().epoch());
    }

    /** Empty when NIXL loads here and an agent with a UCX backend can be created; otherwise why not and how to get it. */
    public static Optional<String> unavailableReason() {
        Optional<String> u = unavailable;
        if (u == null) unavailable = u = probe();
        return u;
    }

    private static Optional<String> probe() {
        try {
            NixlApi api = NixlLibrary.get();
            NixlAgent.create(api, "tandem-probe-" + ProcessHandle.current().pid()).close();
            return Optional.empty();
        } catch (TransferException e) {
            return Optional.of(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return Optional.of("NIXL does not work here: " + e);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void register(RegisteredRegion region) {
        if (locals.putIfAbsent(region.id(), region) != null) {
            throw new TransferException("region " + region.id() + " is already registered with nixl");
        }
        try {
            onPool(() -> {
                agent.register(region.memory());
                return null;
            });
        } catch (RuntimeException e) {
            locals.remove(region.id());
            throw e;
        }
        registrations.incrementAndGet();
    }

    /**
     * NIXL's metadata changes only when memory is registered: computed once per registration (a payload computed
     * while a registration completed carries the older count, so the next call computes it again).
     */
    @Override
    public byte[] payload() {
        long version = registrations.get();
        Payload cached = payload;
        if (cached != null && cached.registrations() == version) return cached.bytes();
        List<NixlPayload.Region> regions = new ArrayList<>();
        for (RegisteredRegion r : locals.values()) regions.add(new NixlPayload.Region(r.id(), r.memory().address(), r.size()));
        byte[] bytes = new NixlPayload(onPool(agent::localMetadata), regions).encode();
        payload = new Payload(version, bytes);
        return bytes;
    }

    @Override
    public boolean canReach(AgentMetadata self, AgentMetadata peer) {
        return peer.offers(NAME);
    }

    @Override
    public void loadPeer(AgentMetadata peer) {
        byte[] bytes = peer.backendPayloads().get(NAME);
        if (bytes == null) throw new TransferException("agent " + peer.agent() + " does not offer nixl");
        NixlPayload p = NixlPayload.decode(bytes);
        String name = onPool(() -> {
            String loaded = agent.loadRemote(p.metadata());
            agent.connect(loaded);
            return loaded;
        });
        if (peer.identity() != null) {
            String expected = peer.agent() + "@" + Long.toHexString(peer.identity().epoch());
            if (!expected.equals(name)) {
                forget(name);
                throw new TransferException("the NIXL metadata of agent " + peer.agent() + " names NIXL agent " + name
                        + ", not " + expected);
            }
        }
        Remote old = peers.put(peer.agent(), new Remote(name, p));
        if (old != null && !old.nixlName().equals(name)) forget(old.nixlName()); // another incarnation: its transfers fail
    }

    @Override
    public void forgetPeer(String agentName) {
        Remote r = peers.remove(agentName);
        if (r != null) forget(r.nixlName());
    }

    private void forget(String nixlName) {
        try {
            onPool(() -> {
                agent.invalidateRemote(nixlName);
                return null;
            });
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "nixl: forgetting " + nixlName + ": " + e.getMessage());
        }
    }

    @Override
    public CompletableFuture<Void> transfer(TransferOp op, List<MemoryDescriptor> local, List<MemorySegment> localSlices,
                                            AgentMetadata peer, List<MemoryDescriptor> remote) {
        int n = local.size();
        if (n == 0 || remote.size() != n || localSlices.size() != n) {
            return CompletableFuture.failedFuture(new TransferException("descriptor lists are empty or differ in length"));
        }
        Remote r = peers.get(peer.agent());
        if (r == null) return CompletableFuture.failedFuture(new TransferException("nixl has not loaded peer " + peer.agent()));
        long[] localAddresses = new long[n], remoteAddresses = new long[n], lengths = new long[n];
        for (int i = 0; i < n; i++) {
            MemoryDescriptor d = remote.get(i);
            NixlPayload.Region region = r.payload().region(d.region());
            if (region == null) return failed("peer " + peer.agent() + " has no nixl region " + d.region());
            if (d.offset() < 0 || d.length() <= 0 || d.offset() > region.size() - d.length()) {
                return failed("descriptor " + i + " ends past region " + d.region() + " of peer " + peer.agent());
            }
            if (local.get(i).length() != d.length() || localSlices.get(i).byteSize() != d.length()) {
                return failed("descriptor " + i + ": lengths differ");
            }
            localAddresses[i] = localSlices.get(i).address();
            remoteAddresses[i] = region.base() + d.offset();
            lengths[i] = d.length();
        }
        long deadline = System.nanoTime() + ctx.config().timeout().toNanos();
        byte[] notification = ("tandem " + op + " " + sequence.incrementAndGet()).getBytes(StandardCharsets.UTF_8);
        return onPoolAsync(() -> {
            run(op, peer.agent(), r, localAddresses, remoteAddresses, lengths, notification, deadline);
            return null;
        });
    }

    private static CompletableFuture<Void> failed(String message) {
        return CompletableFuture.failedFuture(new TransferException(message));
    }

    /** Posts the request and polls it to its end (pool thread). */
    private void run(TransferOp op, String peer, Remote r, long[] localAddresses, long[] remoteAddresses, long[] lengths,
                     byte[] notification, long deadline) {
        String what = "nixl " + op + " with peer " + peer;
        inFlight.incrementAndGet();
        try {
            if (closed) throw new TransferException(what + ": the nixl backend closed");
            postAndPoll(what, peer, r, localAddresses, remoteAddresses, lengths, notification, deadline,
                    op == TransferOp.WRITE);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void postAndPoll(String what, String peer, Remote r, long[] localAddresses, long[] remoteAddresses, long[] lengths,
                             byte[] notification, long deadline, boolean write) {
        int[] posted = new int[1];
        MemorySegment request;
        try {
            request = agent.post(write, localAddresses, remoteAddresses, lengths, r.nixlName(), notification, posted);
        } catch (TransferException e) {
            throw new TransferException(what + ": " + e.getMessage(), e);
        }
        try {
            int status = posted[0];
            for (int polls = 0; status == NixlApi.IN_PROG; polls++) {
                if (closed) throw new TransferException(what + ": the nixl backend closed");
                Remote now = peers.get(peer);
                if (now == null || !now.nixlName().equals(r.nixlName())) {
                    throw new TransferException(what + ": the peer was forgotten while the transfer was in flight");
                }
                if (System.nanoTime() - deadline > 0) throw new TransferException(what + " timed out after " + ctx.config().timeout());
                pause(polls);
                status = agent.status(request);
            }
            if (status != NixlApi.SUCCESS) {
                throw new TransferException(what + " failed: " + NixlApi.describe(status) + " (NIXL logs the cause on stderr)");
            }
        } finally {
            try {
                agent.release(request);
            } catch (TransferException e) {
                LOG.log(System.Logger.Level.DEBUG, what + ": releasing the request: " + e.getMessage());
            }
        }
    }

    private static void pause(int polls) {
        if (polls < SPINS) Thread.onSpinWait();
        else LockSupport.parkNanos(Math.min(MAX_PARK_NANOS, MIN_PARK_NANOS << Math.min(16, (polls - SPINS) / 8)));
    }

    /** Takes NIXL's pending notifications and counts them per sending agent; returns how many it took. */
    int drainNotifications() {
        if (closed) return 0;
        List<NixlAgent.Notif> got;
        try {
            got = agent.takeNotifications();
        } catch (TransferException e) {
            if (!closed) LOG.log(System.Logger.Level.WARNING, "nixl: taking notifications: " + e.getMessage());
            return 0;
        }
        for (NixlAgent.Notif n : got) {
            int at = n.from().lastIndexOf('@');
            String from = at > 0 ? n.from().substring(0, at) : n.from();
            notifications.computeIfAbsent(from, k -> new AtomicLong()).incrementAndGet();
            LOG.log(System.Logger.Level.TRACE, () -> "nixl notification from " + n.from() + ": "
                    + new String(n.message(), StandardCharsets.UTF_8));
        }
        return got.size();
    }

    /** NIXL notifications taken so far from {@code agentName}'s transfers: one per completed WRITE or READ it made here. */
    public long notificationsFrom(String agentName) {
        AtomicLong c = notifications.get(agentName);
        return c == null ? 0 : c.get();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        ctx.vertx().cancelTimer(drainTimer);
        onPool(() -> {
            // transfers see the flag at their next poll (within 1 ms) and release their requests
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (inFlight.get() > 0 && System.nanoTime() - deadline < 0) LockSupport.parkNanos(MAX_PARK_NANOS);
            for (RegisteredRegion r : locals.values()) {
                try {
                    agent.deregister(r.memory());
                } catch (TransferException e) {
                    LOG.log(System.Logger.Level.DEBUG, "nixl: deregistering region " + r.id() + ": " + e.getMessage());
                }
            }
            agent.close();
            return null;
        });
    }

    /**
     * Runs {@code c} on the native pool. The future completes on the pool thread itself, not through the Vert.x
     * context of the caller: a caller on an event loop that waits for it would otherwise wait for itself.
     */
    private <T> CompletableFuture<T> onPoolAsync(Callable<T> c) {
        CompletableFuture<T> f = new CompletableFuture<>();
        ctx.nativePool().executeBlocking(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
            return null;
        }, false);
        return f;
    }

    /** Runs {@code c} on the native pool and waits for it; inline when this thread is the pool's. */
    private <T> T onPool(Callable<T> c) {
        try {
            if (Thread.currentThread().getName().startsWith(TransferConfig.NATIVE_POOL_NAME)) return c.call();
            return onPoolAsync(c).get(ctx.config().timeout().toMillis() + 10_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new TransferException(String.valueOf(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new TransferException("a NIXL call did not return within " + ctx.config().timeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransferException("interrupted waiting for a NIXL call");
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new TransferException(String.valueOf(e), e);
        }
    }
}
