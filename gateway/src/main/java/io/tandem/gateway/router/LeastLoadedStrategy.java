package io.tandem.gateway.router;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;

import java.util.List;
import java.util.Map;

/**
 * The worker with the fewest requests: {@code max(reported running + waiting, this gateway's own in-flight requests
 * on it)}. The report is shared by all gateways but stale by up to one heartbeat, the own count is exact but local.
 * Ties go round-robin so equal workers share the work.
 */
record LeastLoadedStrategy(InFlightLedger ledger, Rotation rotation) implements RoutingStrategy {
    @Override
    public WorkerRecord pick(String model, List<WorkerRecord> pool, RouteRequest prompt, Map<String, Integer> cached) {
        int start = rotation.next(model, pool.size());
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
        return best;
    }

    long score(WorkerRecord w) {
        WorkerLoad load = w.load() == null ? WorkerLoad.IDLE : w.load();
        return Math.max((long) load.runningRequests() + load.waitingRequests(), ledger.requests(w.workerId()));
    }
}
