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
import java.util.random.RandomGenerator;

import io.tandem.registry.kv.KvIndex;

/**
 * Chooses the worker for a request among the live generate-capable workers of its model.
 * Pure apart from its counters: candidates come in, a choice comes out.
 *
 * <p>KV mode ({@link KvCostModel}) weighs the prompt blocks a worker would have to prefill (its
 * cached prefix comes from the {@link KvIndex}) against the blocks it already has active:
 * {@code max(reported active blocks, the gateway's own in-flight blocks on it)}. Least-loaded
 * scores a worker by {@code max(reported running + waiting, the gateway's own in-flight requests on
 * it)}: the report is shared by all gateways but stale by up to one heartbeat, the own count is
 * exact but local. Workers that recently did not answer
 * (no handler, timeout) are avoided for {@code suspectMillis} unless nothing else is left.
 */
public final class WorkerRouter {

    private final RouterMode mode;
    private final long suspectMillis;
    private final LongSupplier clock;
    private final Map<String, AtomicLong> roundRobin = new ConcurrentHashMap<>();
    private final Map<String, Integer> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Long> suspectUntil = new ConcurrentHashMap<>();
    private final Map<String, Long> inFlightBlocks = new ConcurrentHashMap<>();
    private final KvIndex index;
    private final KvCostModel costModel;
    private final RandomGenerator random = RandomGenerator.of("L64X128MixRandom");
    private volatile io.tandem.registry.kv.ApproxKvIndexer predicted;
    private volatile java.util.function.ToLongFunction<String> peerInFlight = w -> 0;

    /**
     * @param index     where cached prefixes are looked up (KV mode); may be null for the other modes
     * @param costModel KV mode's weights
     */
    public WorkerRouter(RouterMode mode, long suspectMillis, LongSupplier clock, KvIndex index, KvCostModel costModel) {
        if (mode == RouterMode.KV && index == null) throw new IllegalArgumentException("kv routing needs a KV index");
        this.mode = mode;
        this.suspectMillis = suspectMillis;
        this.clock = clock;
        this.index = index;
        this.costModel = costModel;
    }

    public WorkerRouter(RouterMode mode, long suspectMillis, LongSupplier clock) {
        this(mode, suspectMillis, clock, mode == RouterMode.KV ? new KvIndex() : null, KvCostModel.DEFAULT);
    }

    public WorkerRouter(RouterMode mode) {
        this(mode, 10_000, System::currentTimeMillis);
    }

    public KvIndex index() {
        return index;
    }

    /**
     * Predictions: every KV-routed prompt is recorded as cached on the chosen worker (for the indexer's TTL) in a
     * second index, and a worker's cached prefix is the longer of what its events say and what was predicted. This
     * covers the lag between routing a turn and its KV events arriving (the next turn of a conversation often comes
     * sooner), and is all there is for workers that publish no events (approximate mode).
     */
    public void predict(io.tandem.registry.kv.ApproxKvIndexer indexer) {
        this.predicted = indexer;
    }

    public RouterMode mode() {
        return mode;
    }

    /**
     * @param candidates live workers of the model (any role; only generate-capable ones are chosen)
     * @param exclude    worker ids already tried for this request
     */
    public Optional<WorkerRecord> choose(String model, List<WorkerRecord> candidates, Set<String> exclude) {
        return route(model, candidates, exclude, RouteRequest.NONE).map(RouteChoice::worker);
    }

    /**
     * Chooses a worker for a prompt.
     *
     * @param candidates live workers of the model (any role; only generate-capable ones are chosen)
     * @param exclude    worker ids already tried for this request
     */
    public Optional<RouteChoice> route(String model, List<WorkerRecord> candidates, Set<String> exclude, RouteRequest prompt) {
        List<WorkerRecord> usable = new ArrayList<>();
        for (WorkerRecord w : candidates) {
            if (w.role().servesGenerate() && !exclude.contains(w.workerId())) usable.add(w);
        }
        if (usable.isEmpty()) return Optional.empty();
        usable.sort(Comparator.comparing(WorkerRecord::workerId));
        List<WorkerRecord> healthy = usable.stream().filter(w -> !isSuspect(w.workerId())).toList();
        List<WorkerRecord> pool = healthy.isEmpty() ? usable : healthy;
        Map<String, Integer> cached = index == null || prompt.blockHashes().length == 0 ? Map.of() : index.prefixBlocks(prompt.blockHashes());
        io.tandem.registry.kv.ApproxKvIndexer guesses = predicted;
        if (guesses != null && prompt.blockHashes().length > 0) {
            Map<String, Integer> merged = new java.util.HashMap<>(cached);
            guesses.index().prefixBlocks(prompt.blockHashes()).forEach((w, n) -> merged.merge(w, n, Math::max));
            cached = merged;
        }
        if (mode == RouterMode.KV) {
            List<KvCostModel.Candidate> costed = new ArrayList<>(pool.size());
            for (WorkerRecord w : pool) {
                costed.add(new KvCostModel.Candidate(w.workerId(), cached.getOrDefault(w.workerId(), 0), activeBlocks(w)));
            }
            WorkerRecord w = pool.get(costModel.choose(costed, prompt.promptBlocks(), random));
            return Optional.of(choice(w, cached, prompt));
        }
        if (mode == RouterMode.RANDOM) return Optional.of(choice(pool.get(random.nextInt(pool.size())), cached, prompt));
        int start = (int) Math.floorMod(roundRobin.computeIfAbsent(model, m -> new AtomicLong()).getAndIncrement(), (long) pool.size());
        if (mode == RouterMode.ROUND_ROBIN) return Optional.of(choice(pool.get(start), cached, prompt));
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
        return Optional.of(choice(best, cached, prompt));
    }

    /**
     * The prefill worker a decode worker should send this prompt to, if it prefills remotely: the same KV cost over the
     * model's prefill pool (prefill workers publish KV events too, so a shared system prompt lands where it is cached).
     * Empty when the model has no live prefill worker. The decode worker may still prefill locally.
     */
    public Optional<WorkerRecord> routePrefill(List<WorkerRecord> candidates, RouteRequest prompt) {
        List<WorkerRecord> pool = new ArrayList<>();
        for (WorkerRecord w : candidates) {
            if (w.role() == io.tandem.protocol.WorkerRole.PREFILL && !isSuspect(w.workerId())) pool.add(w);
        }
        if (pool.isEmpty()) return Optional.empty();
        pool.sort(Comparator.comparing(WorkerRecord::workerId));
        Map<String, Integer> cached = index == null || prompt.blockHashes().length == 0 ? Map.of() : index.prefixBlocks(prompt.blockHashes());
        List<KvCostModel.Candidate> costed = new ArrayList<>(pool.size());
        for (WorkerRecord w : pool) {
            costed.add(new KvCostModel.Candidate(w.workerId(), cached.getOrDefault(w.workerId(), 0), activeBlocks(w)));
        }
        return Optional.of(pool.get(costModel.choose(costed, prompt.promptBlocks(), random)));
    }

    /** The decision, recorded as a prediction in every mode (so hit-rate metrics compare across modes). */
    private RouteChoice choice(WorkerRecord w, Map<String, Integer> cached, RouteRequest prompt) {
        io.tandem.registry.kv.ApproxKvIndexer approx = predicted;
        if (approx != null) approx.routed(w.workerId(), prompt.blockHashes());
        return new RouteChoice(w, cached.getOrDefault(w.workerId(), 0), prompt.promptBlocks());
    }

    /**
     * KV blocks active on a worker: its report, or what the gateways (this one and its peers) have routed to it and
     * not seen end, whichever is more.
     */
    long activeBlocks(WorkerRecord w) {
        WorkerLoad load = w.load() == null ? WorkerLoad.IDLE : w.load();
        long routed = inFlightBlocks.getOrDefault(w.workerId(), 0L) + peerInFlight.applyAsLong(w.workerId());
        return Math.max(load.activeBlocks(), routed);
    }

    /** Where the other gateway replicas' in-flight blocks per worker come from. */
    public void peers(java.util.function.ToLongFunction<String> inFlightBlocksOfPeers) {
        this.peerInFlight = inFlightBlocksOfPeers;
    }

    /** This gateway's in-flight blocks per worker (a copy), for its peers. */
    public Map<String, Long> inFlightBlocksByWorker() {
        return Map.copyOf(inFlightBlocks);
    }

    long score(WorkerRecord w) {
        WorkerLoad load = w.load() == null ? WorkerLoad.IDLE : w.load();
        long reported = (long) load.runningRequests() + load.waitingRequests();
        return Math.max(reported, inFlight(w.workerId()));
    }

    /** The gateway started a request whose prompt fills {@code blocks} KV blocks on this worker. */
    public void started(String workerId, int blocks) {
        inFlight.merge(workerId, 1, Integer::sum);
        inFlightBlocks.merge(workerId, (long) blocks, Long::sum);
    }

    /** A request the gateway started on this worker ended (any way). */
    public void ended(String workerId, int blocks) {
        inFlight.computeIfPresent(workerId, (id, n) -> n <= 1 ? null : n - 1);
        inFlightBlocks.computeIfPresent(workerId, (id, n) -> n <= blocks ? null : n - blocks);
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
