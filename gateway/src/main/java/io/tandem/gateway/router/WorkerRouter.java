package io.tandem.gateway.router;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.kv.KvIndex;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

/**
 * Chooses the worker for a request among the live workers of its model. A facade over the router's parts: it filters
 * the candidates (the right role, not already tried, not draining; suspects only when nothing else is left, see
 * {@link SuspectWorkers}), looks up their cached prefixes ({@link PrefixLookup}), lets its mode's
 * {@link RoutingStrategy} pick, records the pick as a prediction, and keeps the {@link InFlightLedger} that the KV and
 * least-loaded strategies weigh load by.
 */
public final class WorkerRouter {

    private final RouterMode mode;
    private final PrefixLookup prefixes;
    private final SuspectWorkers suspects;
    private final InFlightLedger ledger;
    private final RoutingStrategy strategy;
    /** The prefill pool is chosen by KV cost in every mode (prefill workers publish KV events too). */
    private final KvStrategy prefill;

    /**
     * @param prefixes where cached prefixes are looked up; KV mode needs its events index
     * @param ledger   the in-flight requests the strategies weigh (shared with {@link PeerInFlight})
     */
    public WorkerRouter(RouterMode mode, KvCostModel costModel, PrefixLookup prefixes, SuspectWorkers suspects,
                        InFlightLedger ledger) {
        if (mode == RouterMode.KV && prefixes.events() == null) throw new IllegalArgumentException("kv routing needs a KV index");
        RandomGenerator random = RandomGenerator.of("L64X128MixRandom");
        this.mode = mode;
        this.prefixes = prefixes;
        this.suspects = suspects;
        this.ledger = ledger;
        this.strategy = RoutingStrategy.of(mode, costModel, ledger, random);
        this.prefill = new KvStrategy(costModel, KvStrategy.reportedOrRouted(ledger), random);
    }

    /** Events only (no predictions); an own KV index in KV mode. */
    public WorkerRouter(RouterMode mode, long suspectMillis, LongSupplier clock) {
        this(mode, KvCostModel.DEFAULT, new PrefixLookup(mode == RouterMode.KV ? new KvIndex() : null, null),
                new SuspectWorkers(suspectMillis, clock), new InFlightLedger(clock));
    }

    public WorkerRouter(RouterMode mode) {
        this(mode, 10_000, System::currentTimeMillis);
    }

    /** The index the workers' KV events feed (null if there is none). */
    public KvIndex index() {
        return prefixes.events();
    }

    public InFlightLedger ledger() {
        return ledger;
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
     * Chooses a worker for a prompt, and records it as a prediction of where the prompt will be cached (in every
     * mode, so hit-rate metrics compare across modes).
     *
     * @param candidates live workers of the model (any role; only generate-capable, not draining ones are chosen)
     * @param exclude    worker ids already tried for this request
     */
    public Optional<RouteChoice> route(String model, List<WorkerRecord> candidates, Set<String> exclude, RouteRequest prompt) {
        return route(model, candidates, exclude, prompt, SloRouting.NONE);
    }

    /**
     * As {@link #route(String, List, Set, RouteRequest)}, weighing the request's TTFT objective: the mode's pick stands
     * unless its predicted TTFT misses the budget while another candidate's meets it — then the fastest predicted
     * candidate goes (prefix reuse and load balance decide whenever the objective does not). With
     * {@link SloRouting#refuse()}, a request no candidate is predicted to serve within the budget gets a choice marked
     * {@link RouteChoice#unattainable()} and is not recorded as routed.
     */
    public Optional<RouteChoice> route(String model, List<WorkerRecord> candidates, Set<String> exclude, RouteRequest prompt,
                                       SloRouting slo) {
        List<WorkerRecord> usable = pool(candidates, w -> w.role().servesGenerate() && !exclude.contains(w.workerId()));
        if (usable.isEmpty()) return Optional.empty();
        List<WorkerRecord> healthy = usable.stream().filter(w -> !isSuspect(w.workerId())).toList();
        List<WorkerRecord> pool = healthy.isEmpty() ? usable : healthy;
        Map<String, Integer> cached = prefixes.cachedBlocks(prompt.blockHashes());
        WorkerRecord w = strategy.pick(model, pool, prompt, cached);
        double predicted = Double.NaN, best = Double.NaN;
        if (slo.estimate() != null) {
            WorkerRecord fastest = null;
            for (WorkerRecord x : pool) {
                var ms = slo.estimate().millis(x, cached.getOrDefault(x.workerId(), 0));
                if (ms.isEmpty()) continue;
                double v = ms.getAsDouble();
                if (x == w) predicted = v;
                if (fastest == null || v < best) {
                    best = v;
                    fastest = x;
                }
            }
            boolean hasBudget = !Double.isNaN(slo.budgetMs()) && fastest != null;
            if (hasBudget && best > slo.budgetMs() && slo.refuse()) {
                return Optional.of(new RouteChoice(w, cached.getOrDefault(w.workerId(), 0), prompt.promptBlocks(), predicted,
                        best, true));
            }
            if (hasBudget && !(predicted <= slo.budgetMs()) && best <= slo.budgetMs()) {
                w = fastest;
                predicted = best;
            }
        }
        prefixes.routed(w.workerId(), prompt.blockHashes());
        return Optional.of(new RouteChoice(w, cached.getOrDefault(w.workerId(), 0), prompt.promptBlocks(), predicted, best, false));
    }

    /**
     * The prefill worker a decode worker should send this prompt to, if it prefills remotely: the KV cost over the
     * model's healthy, not draining prefill pool (prefill workers publish KV events too, so a shared system prompt
     * lands where it is cached). Empty when there is none. The decode worker may still prefill locally.
     */
    public Optional<WorkerRecord> routePrefill(List<WorkerRecord> candidates, RouteRequest prompt) {
        List<WorkerRecord> pool = pool(candidates, w -> w.role() == WorkerRole.PREFILL && !isSuspect(w.workerId()));
        if (pool.isEmpty()) return Optional.empty();
        return Optional.of(prefill.pick("", pool, prompt, prefixes.reportedBlocks(prompt.blockHashes())));
    }

    /** The candidates that pass {@code filter} and are not draining, sorted by id (ties then break the same way). */
    private static List<WorkerRecord> pool(List<WorkerRecord> candidates, java.util.function.Predicate<WorkerRecord> filter) {
        List<WorkerRecord> pool = new ArrayList<>();
        for (WorkerRecord w : candidates) {
            if (filter.test(w) && !draining(w)) pool.add(w);
        }
        pool.sort(Comparator.comparing(WorkerRecord::workerId));
        return pool;
    }

    private static boolean draining(WorkerRecord w) {
        WorkerLoad load = w.load();
        return load != null && load.draining();
    }

    /** The gateway started a request whose prompt fills {@code blocks} KV blocks on this worker. */
    public void started(String workerId, int blocks) {
        ledger.started(workerId, blocks);
    }

    /** A request the gateway started on this worker ended (any way). */
    public void ended(String workerId, int blocks) {
        ledger.ended(workerId, blocks);
    }

    /** This gateway's requests in flight on the worker. */
    public int inFlight(String workerId) {
        return ledger.requests(workerId);
    }

    /** The worker did not answer (no handler or timeout): avoid it for a while. */
    public void suspect(String workerId) {
        suspects.suspect(workerId);
    }

    public boolean isSuspect(String workerId) {
        return suspects.isSuspect(workerId);
    }
}
