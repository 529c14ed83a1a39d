package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;

import java.util.List;
import java.util.Map;

/** Each model's requests go to its workers in turn. */
record RoundRobinStrategy(Rotation rotation) implements RoutingStrategy {
    @Override
    public WorkerRecord pick(String model, List<WorkerRecord> pool, RouteRequest prompt, Map<String, Integer> cached) {
        return pool.get(rotation.next(model, pool.size()));
    }
}
