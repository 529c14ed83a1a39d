package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;

import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * How one {@link RouterMode} picks a worker among those the router left in the pool (usable, healthy if any is,
 * sorted by id). A strategy only chooses: filtering, predictions and bookkeeping are the {@link WorkerRouter}'s.
 */
sealed interface RoutingStrategy permits KvStrategy, RoundRobinStrategy, RandomStrategy, LeastLoadedStrategy {

    /**
     * @param model  the request's model (round-robin keeps one rotation per model)
     * @param pool   the workers to choose from: not empty, sorted by worker id
     * @param prompt the request's prompt blocks
     * @param cached cached prefix blocks per worker id (absent: none)
     */
    WorkerRecord pick(String model, List<WorkerRecord> pool, RouteRequest prompt, Map<String, Integer> cached);

    /** The strategy of {@code mode}; the KV and least-loaded ones weigh load from {@code ledger}. */
    static RoutingStrategy of(RouterMode mode, KvCostModel costModel, InFlightLedger ledger, RandomGenerator random) {
        return switch (mode) {
            case KV -> new KvStrategy(costModel, KvStrategy.routed(ledger), random);
            case ROUND_ROBIN -> new RoundRobinStrategy(new Rotation());
            case RANDOM -> new RandomStrategy(random);
            case LEAST_LOADED -> new LeastLoadedStrategy(ledger, new Rotation());
        };
    }
}
