package io.tandem.gateway.router;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The KV router's choice among workers: {@code cost = prefillWeight × uncached prompt blocks +
 * loadWeight × active blocks}. The lowest cost wins; equal costs are broken at random. With a
 * temperature above 0 the choice is a softmax over {@code -cost / temperature} (costs normalised by
 * the prompt's blocks), spreading requests between workers of nearly equal cost.
 *
 * @param prefillWeight how much one block to prefill costs
 * @param loadWeight    how much one block already active on the worker costs
 * @param temperature   0 for the argmin, above 0 for a softmax
 */
public record KvCostModel(double prefillWeight, double loadWeight, double temperature) {

    /**
     * A block to prefill costs about three blocks held, measured on the multi-turn test workloads: in one JVM
     * (KvRoutingTest) load weight 1 moved a quarter of second turns off their cached worker, 0.5 and 0.35 kept every
     * turn on it with requests spread evenly, 0.25 loaded one worker three times another; across processes
     * (KvRoutingClusterIT) 0.35 kept 96-100 % of the oracle's hits, 0.25 once left one worker with 7 of 60 requests
     * and another with 34.
     */
    public static final KvCostModel DEFAULT = new KvCostModel(1.0, 0.35, 0.0);

    public KvCostModel {
        if (prefillWeight < 0 || loadWeight < 0 || temperature < 0) {
            throw new IllegalArgumentException("router weights and temperature must be >= 0");
        }
    }

    /** One worker's inputs. */
    public record Candidate(String workerId, int cachedBlocks, long activeBlocks) {}

    public double cost(Candidate c, int promptBlocks) {
        return prefillWeight * Math.max(0, promptBlocks - c.cachedBlocks()) + loadWeight * c.activeBlocks();
    }

    /** The index of the chosen candidate. */
    public int choose(List<Candidate> candidates, int promptBlocks, RandomGenerator random) {
        int n = candidates.size();
        double[] cost = new double[n];
        double min = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            cost[i] = cost(candidates.get(i), promptBlocks);
            min = Math.min(min, cost[i]);
        }
        if (temperature > 0) {
            double scale = Math.max(1, promptBlocks) * temperature, total = 0;
            double[] w = new double[n];
            for (int i = 0; i < n; i++) total += w[i] = Math.exp(-(cost[i] - min) / scale);
            double r = random.nextDouble() * total;
            for (int i = 0; i < n; i++) if ((r -= w[i]) < 0) return i;
            return n - 1;
        }
        int ties = 0, chosen = 0;
        for (int i = 0; i < n; i++) {
            if (cost[i] == min && random.nextInt(++ties) == 0) chosen = i; // reservoir: uniform among the ties
        }
        return chosen;
    }
}
