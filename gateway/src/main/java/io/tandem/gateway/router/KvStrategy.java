package io.tandem.gateway.router;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import java.util.random.RandomGenerator;

/**
 * The lowest {@link KvCostModel} cost: the prompt blocks a worker would have to prefill (its cached prefix from the
 * router's {@link PrefixLookup}) against the KV blocks active on it, as {@code activeBlocks} tells.
 */
record KvStrategy(KvCostModel costModel, ToLongFunction<WorkerRecord> activeBlocks, RandomGenerator random)
        implements RoutingStrategy {

    /**
     * Active blocks of a generate worker: the prompt blocks the gateways (this one and its peers) have routed to it and
     * not seen end. Not the worker's own load report: the registry publishes it with the next heartbeat (2 s) unless it
     * moved by a tenth of the pool, so a few hundred milliseconds after a turn ends the report still counts it (and
     * other ended requests): taken as a floor, it pushed a conversation's next turn off the very worker holding its
     * prefix. The gateways see every request they route end; the ledger is exact for
     * this gateway and a publish period ({@link PeerInFlight}) behind for its peers, as Dynamo's router tracks the
     * active sequences of its own decisions and its replicas' rather than the engines' metrics.
     */
    static ToLongFunction<WorkerRecord> routed(InFlightLedger ledger) {
        return w -> ledger.blocks(w.workerId());
    }

    /**
     * Active blocks of a prefill worker, which the ledger does not see (requests are started on their decode worker):
     * its last load report, or what the gateways have routed to it, whichever is more.
     */
    static ToLongFunction<WorkerRecord> reportedOrRouted(InFlightLedger ledger) {
        return w -> Math.max((w.load() == null ? WorkerLoad.IDLE : w.load()).activeBlocks(), ledger.blocks(w.workerId()));
    }

    @Override
    public WorkerRecord pick(String model, List<WorkerRecord> pool, RouteRequest prompt, Map<String, Integer> cached) {
        List<KvCostModel.Candidate> costed = new ArrayList<>(pool.size());
        for (WorkerRecord w : pool) {
            costed.add(new KvCostModel.Candidate(w.workerId(), cached.getOrDefault(w.workerId(), 0), activeBlocks.applyAsLong(w)));
        }
        return pool.get(costModel.choose(costed, prompt.promptBlocks(), random));
    }
}
