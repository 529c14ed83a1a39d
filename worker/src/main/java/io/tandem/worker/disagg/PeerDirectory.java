package io.tandem.worker.disagg;

import io.tandem.engine.kv.KvLayout;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerRegistry;
import io.tandem.transfer.TransferAgent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The peers this worker transfers KV to: each peer's bootstrap is fetched once — from its HTTP {@code GET /route}
 * when it runs an HTTP server, else from its bootstrap address on the event bus (embedded workers) — checked against
 * the local KV layout, loaded into the transfer agent and cached. A failed fetch or load is not cached (the next
 * request retries); a layout mismatch fails with a clear message. Used on the worker's event loop only.
 */
public final class PeerDirectory {
    private static final long FETCH_TIMEOUT_MILLIS = 5_000;

    /** A peer ready for transfers: its bootstrap, and the backend the agent chose for it. */
    public record Peer(KvBootstrap bootstrap, String backend) {
    }

    private final Vertx vertx;
    private final WorkerRegistry registry;
    private final TransferAgent agent;
    private final KvLayout localLayout;
    private final HttpClient http;
    private final Map<String, Future<Peer>> peers = new HashMap<>();

    public PeerDirectory(Vertx vertx, WorkerRegistry registry, TransferAgent agent, KvLayout localLayout) {
        this.vertx = vertx;
        this.registry = registry;
        this.agent = agent;
        this.localLayout = localLayout;
        this.http = vertx.createHttpClient();
    }

    /** The peer, fetching and loading it the first time. */
    public Future<Peer> peer(String workerId) {
        Future<Peer> known = peers.get(workerId);
        if (known != null && !known.failed()) return known;
        Future<Peer> loading = fetch(workerId)
                .compose(boot -> {
                    String mismatch = boot.mismatch(localLayout);
                    if (mismatch != null) return Future.failedFuture(new IllegalStateException(mismatch));
                    return vertx.executeBlocking(() -> new Peer(boot, agent.loadPeer(boot.agent())), false);
                });
        peers.put(workerId, loading);
        return loading;
    }

    /** Drops a peer that left or restarted (its agent, regions and memory are gone). */
    public void forget(String workerId) {
        Future<Peer> p = peers.remove(workerId);
        if (p != null && p.succeeded()) {
            try {
                agent.forgetPeer(p.result().bootstrap().agent().agent());
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
    }

    private Future<KvBootstrap> fetch(String workerId) {
        Optional<WorkerRecord> record = registry.worker(workerId);
        Future<JsonObject> doc;
        if (record.isPresent() && record.get().httpPort() > 0) {
            WorkerRecord r = record.get();
            doc = http.request(HttpMethod.GET, r.httpPort(), r.host(), "/route")
                    .compose(req -> req.idleTimeout(FETCH_TIMEOUT_MILLIS).send())
                    .compose(resp -> resp.statusCode() == 200 ? resp.body()
                            : Future.failedFuture("GET /route of " + workerId + " answered " + resp.statusCode()))
                    .map(JsonObject::new);
        } else {
            doc = vertx.eventBus().<JsonObject>request(Addresses.bootstrap(workerId), null,
                    new DeliveryOptions().setSendTimeout(FETCH_TIMEOUT_MILLIS)).map(m -> m.body());
        }
        return doc.map(KvBootstrap::fromJson)
                .recover(e -> Future.failedFuture(new IllegalStateException("cannot fetch the transfer bootstrap of " + workerId + ": " + e.getMessage(), e)));
    }

    public void close() {
        http.close();
    }
}
