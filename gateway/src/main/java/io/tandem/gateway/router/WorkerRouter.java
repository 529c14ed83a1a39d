package io.tandem.gateway.router;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Chooses the worker for a request among the live generate-capable workers of its model.
 * Pure apart from its counters: candidates come in, a choice comes out.
 *
 * <p>Least-loaded scores a worker by {@code max(reported running + waiting, the gateway's own
 * in-flight requests on it)}: the report is shared by all gateways but stale by up to one
 * heartbeat, the own count is exact but local. Workers that recently did not answer
 * (no handler, timeout) are avoided for {@code suspectMillis} unless nothing else is left.
 */
public final class WorkerRouter {

    private final RouterMode mode;
    private final long suspectMillis;
    private final LongSupplier clock;
    private final Map<String, AtomicLong> roundRobin = new ConcurrentHashMap<>();
    private final Map<String, Integer> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Long> suspectUntil = new ConcurrentHashMap<>();

    public WorkerRouter(RouterMode mode, long suspectMillis, LongSupplier clock) {
        this.mode = mode;
        this.suspectMillis = suspectMillis;
        this.clock = clock;
    }

    public WorkerRouter(RouterMode mode) {
        this(mode, 10_000, System::currentTimeMillis);
    }

    public RouterMode mode() {
        return mode;
    }

    /**
     * @param candidates live workers of the model (any role; only generate-capable ones are chosen)
     * @param exclude    worker ids already tried for this request
     */
    public Optional<WorkerRecord> choose(String model, List<WorkerRecord> candidates, Set<String> exclude) {
        List<WorkerRecord> usable = new ArrayList<>();
        for (WorkerRecord w : candidates) {
            if (w.role().servesGenerate() && !exclude.contains(w.workerId())) usable.add(w);
        }
        if (usable.isEmpty()) return Optional.empty();
        usable.sort(Comparator.comparing(WorkerRecord::workerId));
        List<WorkerRecord> healthy = usable.stream().filter(w -> !isSuspect(w.workerId())).toList();
        List<WorkerRecord> pool = healthy.isEmpty() ? usable : healthy;
        int start = (int) Math.floorMod(roundRobin.computeIfAbsent(model, m -> new AtomicLong()).getAndIncrement(), (long) pool.size());
        if (mode == RouterMode.ROUND_ROBIN) return Optional.of(pool.get(start));
        // least-loaded; ties go round-robin so equal workers share the work
        WorkerRecord best = null;
        long bestScore = Long.MAX_VALUE;
        for (int i = 0; i < pool.size(); i++) {
            WorkerRecord w = pool.get((start + i) % pool.size());
            long score = score(w);
            if (score < bestScore) {
                best = w;
                bestScore = score;
            }
        }
        return Optional.of(best);
    }

    long score(WorkerRecord w) {
        WorkerLoad load = w.load() == null ? WorkerLoad.IDLE : w.load();
        long reported = (long) load.runningRequests() + load.waitingRequests();
        return Math.max(reported, inFlight(w.workerId()));
    }

    /** The gateway started a request on this worker. */
    public void started(String workerId) {
        inFlight.merge(workerId, 1, Integer::sum);
    }

    /** A request the gateway started on this worker ended (any way). */
    public void ended(String workerId) {
        inFlight.computeIfPresent(workerId, (id, n) -> n <= 1 ? null : n - 1);
    }

    public int inFlight(String workerId) {
        return inFlight.getOrDefault(workerId, 0);
    }

    /** The worker did not answer (no handler or timeout): avoid it for a while. */
    public void suspect(String workerId) {
        suspectUntil.put(workerId, clock.getAsLong() + suspectMillis);
    }

    public boolean isSuspect(String workerId) {
        Long until = suspectUntil.get(workerId);
        if (until == null) return false;
        if (clock.getAsLong() < until) return true;
        suspectUntil.remove(workerId, until);
        return false;
    }
}
