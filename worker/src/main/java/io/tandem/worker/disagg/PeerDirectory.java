package io.tandem.worker.disagg;

import io.tandem.engine.kv.KvLayout;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent;
import io.tandem.registry.WorkerRegistry;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.transfer.AgentIdentity;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.control.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The peers this worker transfers KV to. Each peer's bootstrap is fetched once — from its HTTP {@code GET /route}
 * (answering its cluster-secret challenge, see {@link BootstrapClient}) when it runs an HTTP server, else from its
 * bootstrap address on the (local) event bus of embedded workers — and checked before anything is loaded: the worker
 * id, cluster member and epoch it states must be the ones the registry holds for the worker we meant (else
 * {@link PeerMismatchException}), and its KV layout must match ours. Then the transfer agent loads it (connecting and
 * authenticating, which checks the agent's identity once more) and it is cached until the peer restarts (a new epoch
 * in the registry) or leaves. A failed fetch or load is not cached. Used on the worker's event loop only.
 */
public final class PeerDirectory {
    private static final System.Logger LOG = System.getLogger(PeerDirectory.class.getName());
    private static final long FETCH_TIMEOUT_MILLIS = 5_000;

    /** A peer ready for transfers: its bootstrap, the epoch it was loaded at, and the backend the agent chose for it. */
    public record Peer(KvBootstrap bootstrap, long epoch, String backend) {
    }

    private final Vertx vertx;
    private final WorkerRegistry registry;
    private final TransferAgent agent;
    private final KvLayout localLayout;
    private final HttpClient http;
    private final BootstrapClient bootstraps;
    private final Map<String, Future<Peer>> peers = new HashMap<>();
    private final AutoCloseable departures;

    /**
     * @param secret the cluster secret to answer peers' {@code /route} challenges with (null: peers must not ask)
     * @param self   this worker's id (named in its answers)
     */
    public PeerDirectory(Vertx vertx, WorkerRegistry registry, TransferAgent agent, KvLayout localLayout,
                         ClusterSecret secret, String self) {
        this.vertx = vertx;
        this.registry = registry;
        this.agent = agent;
        this.localLayout = localLayout;
        this.http = vertx.createHttpClient();
        this.bootstraps = new BootstrapClient(http, secret, self, FETCH_TIMEOUT_MILLIS);
        // a peer that left took its agent, regions and memory with it: drop what we loaded of it
        io.vertx.core.Context context = vertx.getOrCreateContext();
        this.departures = registry.onChange(e -> {
            if (e instanceof WorkerEvent.Removed r) context.runOnContext(v -> forget(r.worker().workerId()));
        });
    }

    /** The peer, fetching, checking and loading it the first time (and again after it restarted). */
    public Future<Peer> peer(String workerId) {
        Optional<WorkerRecord> record = registry.worker(workerId);
        if (record.isEmpty()) return Future.failedFuture(new IllegalStateException("worker " + workerId + " is not in the registry"));
        WorkerRecord r = record.get();
        Future<Peer> known = peers.get(workerId);
        if (known != null && !known.failed()) {
            if (!known.isComplete() || known.result().epoch() == r.epoch()) return known;
            LOG.log(System.Logger.Level.INFO, "worker " + workerId + " restarted (epoch " + Long.toUnsignedString(r.epoch(), 16)
                    + "): loading its transfer bootstrap again");
            forget(workerId);
        }
        Future<Peer> loading = fetch(r)
                .compose(boot -> {
                    String wrong = identityMismatch(boot, r);
                    if (wrong != null) return Future.failedFuture(new PeerMismatchException(wrong));
                    String mismatch = boot.mismatch(localLayout);
                    if (mismatch != null) return Future.failedFuture(new IllegalStateException(mismatch));
                    return vertx.executeBlocking(() -> new Peer(boot, r.epoch(), load(boot)), false);
                });
        peers.put(workerId, loading);
        return loading;
    }

    /** Loads the peer into the agent; a handshake that reaches another agent than the bootstrap names is a mismatch. */
    private String load(KvBootstrap boot) {
        try {
            return agent.loadPeer(boot.agent());
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ProtocolException p && "identity_mismatch".equals(p.reason())) {
                    throw new PeerMismatchException("the transfer handshake with " + boot.workerId() + " failed: " + p.getMessage(), e);
                }
            }
            throw e;
        }
    }

    /** Why the bootstrap is not from the worker the registry describes, or null when it is. */
    static String identityMismatch(KvBootstrap boot, WorkerRecord expected) {
        AgentIdentity id = boot.agent().identity();
        String got = "worker " + boot.workerId() + (id == null ? " (no identity)" : " (member " + id.memberId() + ", epoch "
                + Long.toUnsignedString(id.epoch(), 16) + ")");
        String want = "worker " + expected.workerId() + " (member " + expected.nodeId() + ", epoch "
                + Long.toUnsignedString(expected.epoch(), 16) + ")";
        boolean same = id != null && boot.workerId().equals(expected.workerId()) && id.workerId().equals(expected.workerId())
                && Objects.equals(id.memberId(), expected.nodeId()) && id.epoch() == expected.epoch();
        return same ? null : "the transfer bootstrap at " + expected.host() + ":" + expected.httpPort() + " is " + got
                + ", expected " + want + ": a misadvertised address, a restart or an impostor; not transferring";
    }

    /** Drops a peer that left or restarted (its agent, regions and memory are gone). */
    public void forget(String workerId) {
        Future<Peer> p = peers.remove(workerId);
        if (p != null && p.succeeded()) {
            String name = p.result().bootstrap().agent().agent();
            vertx.executeBlocking(() -> {
                agent.forgetPeer(name);
                return null;
            }, false).onFailure(e -> LOG.log(System.Logger.Level.DEBUG, "forgetting peer " + workerId + ": " + e));
        }
    }

    private Future<KvBootstrap> fetch(WorkerRecord r) {
        Future<JsonObject> doc;
        if (r.httpPort() > 0) {
            doc = bootstraps.fetch(r.host(), r.httpPort());
        } else if (!vertx.isClustered()) {
            doc = vertx.eventBus().<JsonObject>request(Addresses.bootstrap(r.workerId()), null,
                    new DeliveryOptions().setSendTimeout(FETCH_TIMEOUT_MILLIS)).map(m -> m.body());
        } else {
            doc = Future.failedFuture("worker " + r.workerId() + " runs no HTTP server to serve its bootstrap");
        }
        return doc.map(KvBootstrap::fromJson)
                .recover(e -> Future.failedFuture(new IllegalStateException("cannot fetch the transfer bootstrap of "
                        + r.workerId() + ": " + e.getMessage(), e)));
    }

    public void close() {
        try {
            departures.close();
        } catch (Exception ignored) {
            // nothing to undo
        }
        http.close();
    }
}
