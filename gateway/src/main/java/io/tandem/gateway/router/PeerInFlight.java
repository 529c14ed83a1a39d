package io.tandem.gateway.router;

import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Carries the in-flight bookkeeping between gateway replicas: every gateway publishes, on the clustered event bus,
 * the KV blocks of the requests it has routed and not yet seen end, per worker (every {@link #PUBLISH_MILLIS} when it
 * changed, and at least every second), and hands what its peers publish to its {@link InFlightLedger}. Each gateway
 * thus adds its peers' figures to its own when it weighs a worker's load, so two gateways routing at once do not both
 * pick the worker that looks idle to each of them.
 */
public final class PeerInFlight implements AutoCloseable {
    public static final String ADDRESS = "tandem.router.inflight";
    static final long PUBLISH_MILLIS = 100;

    private final Vertx vertx;
    private final String gatewayId = UUID.randomUUID().toString();
    private final MessageConsumer<JsonObject> consumer;
    private final long timer;
    private Map<String, Long> lastPublished = Map.of();
    private long lastPublishedAt;

    public PeerInFlight(Vertx vertx, InFlightLedger ledger) {
        this.vertx = vertx;
        this.consumer = vertx.eventBus().consumer(ADDRESS, msg -> {
            JsonObject m = msg.body();
            if (gatewayId.equals(m.getString("gateway"))) return;
            Map<String, Long> blocks = new HashMap<>();
            m.getJsonObject("blocks").forEach(e -> blocks.put(e.getKey(), ((Number) e.getValue()).longValue()));
            ledger.peer(m.getString("gateway"), blocks);
        });
        this.timer = vertx.setPeriodic(PUBLISH_MILLIS, id -> publish(ledger.ownBlocksByWorker()));
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

    @Override
    public void close() {
        vertx.cancelTimer(timer);
        consumer.unregister();
    }
}
