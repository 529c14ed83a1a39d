package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;

import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/** A worker drawn uniformly. */
record RandomStrategy(RandomGenerator random) implements RoutingStrategy {
    @Override
    public WorkerRecord pick(String model, List<WorkerRecord> pool, RouteRequest prompt, Map<String, Integer> cached) {
        return pool.get(random.nextInt(pool.size()));
    }
}
