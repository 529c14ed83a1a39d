package io.tandem.gateway.slo;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The prompt tokens this gateway has sent to each worker whose first token it has not seen yet: the prefill queue
 * ahead of the next request, exact and current, where the worker's own report is a heartbeat (or at best a step) old
 * and misses the requests sent since. The predictor takes the larger of the two (the report also counts other
 * gateways' requests). Thread-safe.
 */
public final class PendingPrefills {
    private final ConcurrentHashMap<String, AtomicLong> tokens = new ConcurrentHashMap<>();

    /** A request with {@code promptTokens} uncached prompt tokens was sent to {@code workerId}. */
    public void sent(String workerId, long promptTokens) {
        tokens.computeIfAbsent(workerId, k -> new AtomicLong()).addAndGet(promptTokens);
    }

    /** That request's first token came, or it ended without one: its prompt is no longer ahead of anyone. */
    public void done(String workerId, long promptTokens) {
        AtomicLong n = tokens.get(workerId);
        if (n != null) n.updateAndGet(v -> Math.max(0, v - promptTokens));
    }

    public long tokens(String workerId) {
        AtomicLong n = tokens.get(workerId);
        return n == null ? 0 : n.get();
    }

    /** Forgets a worker that left. */
    public void forget(String workerId) {
        tokens.remove(workerId);
    }
}
