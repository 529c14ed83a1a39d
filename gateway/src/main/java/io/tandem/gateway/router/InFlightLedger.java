package io.tandem.gateway.router;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The requests routed to each worker that have not ended: this gateway's own (requests and their prompt's KV blocks,
 * exact, counted from the routing decision so a burst does not herd onto one worker) and the other gateway replicas'
 * blocks as {@link PeerInFlight} last received them. A peer silent for {@link #PEER_STALE_MILLIS} (it died) stops
 * counting.
 */
public final class InFlightLedger {
    static final long PEER_STALE_MILLIS = 3_000;

    private record Peer(long receivedAtMillis, Map<String, Long> blocks) {}

    private final LongSupplier clock;
    private final Map<String, Integer> requests = new ConcurrentHashMap<>();
    private final Map<String, Long> blocks = new ConcurrentHashMap<>();
    private final Map<String, Peer> peers = new ConcurrentHashMap<>();

    /** @param clock milliseconds, to age the peers' figures */
    public InFlightLedger(LongSupplier clock) {
        this.clock = clock;
    }

    /** This gateway started a request whose prompt fills {@code promptBlocks} KV blocks on this worker. */
    public void started(String workerId, int promptBlocks) {
        requests.merge(workerId, 1, Integer::sum);
        blocks.merge(workerId, (long) promptBlocks, Long::sum);
    }

    /** A request this gateway started on this worker ended (any way). */
    public void ended(String workerId, int promptBlocks) {
        requests.computeIfPresent(workerId, (id, n) -> n <= 1 ? null : n - 1);
        blocks.computeIfPresent(workerId, (id, n) -> n <= promptBlocks ? null : n - promptBlocks);
    }

    /** This gateway's requests in flight on the worker. */
    public int requests(String workerId) {
        return requests.getOrDefault(workerId, 0);
    }

    /** This gateway's in-flight blocks on the worker. */
    public long ownBlocks(String workerId) {
        return blocks.getOrDefault(workerId, 0L);
    }

    /** This gateway's in-flight blocks per worker (a copy), for its peers. */
    public Map<String, Long> ownBlocksByWorker() {
        return Map.copyOf(blocks);
    }

    /** A peer gateway's latest figures (they replace its earlier ones). */
    public void peer(String gatewayId, Map<String, Long> blocksByWorker) {
        peers.put(gatewayId, new Peer(clock.getAsLong(), Map.copyOf(blocksByWorker)));
    }

    /** In-flight blocks of the peers heard from within {@link #PEER_STALE_MILLIS} on the worker. */
    public long peerBlocks(String workerId) {
        long now = clock.getAsLong(), sum = 0;
        for (Peer p : peers.values()) {
            if (now - p.receivedAtMillis() <= PEER_STALE_MILLIS) sum += p.blocks().getOrDefault(workerId, 0L);
        }
        return sum;
    }

    /** Every gateway's in-flight blocks on the worker: this one's and its live peers'. */
    public long blocks(String workerId) {
        return ownBlocks(workerId) + peerBlocks(workerId);
    }
}
