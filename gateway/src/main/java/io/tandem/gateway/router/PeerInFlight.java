package io.tandem.gateway.router;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-flight bookkeeping of the other gateway replicas: every gateway publishes, on the
 * clustered event bus, the KV blocks of the requests it has routed and not yet seen end, per worker
 * (every {@link #PUBLISH_MILLIS} when it changed, and at least every second). Each gateway adds its
 * peers' figures to its own when it weighs a worker's load, so two gateways routing at once do not
 * both pick the worker that looks idle to each of them. A peer silent for {@link #STALE_MILLIS} (it
 * died) stops counting.
 */
public final class PeerInFlight implements AutoCloseable {
    public static final String ADDRESS = "tandem.router.inflight";
    static final long PUBLISH_MILLIS = 100, STALE_MILLIS = 3_000;

    private record Peer(long receivedAtMillis, Map<String, Long> blocks) {}

    private final Vertx vertx;
    private final String gatewayId = UUID.randomUUID().toString();
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();
    private final MessageConsumer<JsonObject> consumer;
    private final long timer;
    private Map<String, Long> lastPublished = Map.of();
    private long lastPublishedAt;

    public PeerInFlight(Vertx vertx, WorkerRouter own) {
        this.vertx = vertx;
        this.consumer = vertx.eventBus().consumer(ADDRESS, msg -> {
            JsonObject m = msg.body();
            if (gatewayId.equals(m.getString("gateway"))) return;
            Map<String, Long> blocks = new java.util.HashMap<>();
            m.getJsonObject("blocks").forEach(e -> blocks.put(e.getKey(), ((Number) e.getValue()).longValue()));
            peers.put(m.getString("gateway"), new Peer(System.currentTimeMillis(), blocks));
        });
        this.timer = vertx.setPeriodic(PUBLISH_MILLIS, id -> publish(own.inFlightBlocksByWorker()));
    }

    private void publish(Map<String, Long> mine) {
        long now = System.currentTimeMillis();
        if (mine.equals(lastPublished) && now - lastPublishedAt < 1_000) return;
        JsonObject blocks = new JsonObject();
        mine.forEach(blocks::put);
        vertx.eventBus().publish(ADDRESS, new JsonObject().put("gateway", gatewayId).put("blocks", blocks));
        lastPublished = Map.copyOf(mine);
        lastPublishedAt = now;
    }

    /** KV blocks the other gateways have in flight on {@code workerId}. */
    public long blocks(String workerId) {
        long now = System.currentTimeMillis(), sum = 0;
        for (Peer p : peers.values()) {
            if (now - p.receivedAtMillis() <= STALE_MILLIS) sum += p.blocks().getOrDefault(workerId, 0L);
        }
        return sum;
    }

    @Override
    public void close() {
        vertx.cancelTimer(timer);
        consumer.unregister();
    }
}
