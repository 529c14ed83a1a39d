package io.tandem.gateway.dispatch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tandem.gateway.router.ContractFilter;
import io.tandem.gateway.router.ContractFilter.Decision;
import io.tandem.gateway.router.ContractFilter.Refusal;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerRegistry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's view of the registry through the {@link ContractFilter}: per served model, the live workers it may
 * route to. Every refused worker is logged once at WARN (which worker, what differs, from what) and counted in
 * {@code tandem_gateway_workers_refused_total{model,reason}}; {@code tandem_gateway_refused_workers{model}} is the
 * number refused right now. A model this gateway did not load has no accepted worker (its file cannot be checked).
 *
 * <p>Decisions are remembered per registry snapshot (the registry hands out the same list until something changes),
 * so a request costs a lookup; registry changes re-check at once, so refusals are reported without traffic too.
 * Thread-safe.
 */
public final class ContractGate implements AutoCloseable {

    private static final System.Logger log = System.getLogger(ContractGate.class.getName());

    private record Cached(List<WorkerRecord> live, Decision decision) {}

    private final WorkerRegistry registry;
    private final Map<String, String> fingerprints;
    private final MeterRegistry meters;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    /** Per model: the refused workers' ids and the refusal last reported for each. */
    private final Map<String, Map<String, String>> refusedNow = new HashMap<>();
    private final Map<String, AtomicInteger> refusedGauges = new HashMap<>();
    private final AutoCloseable listener;

    /**
     * @param fingerprints served model name → fingerprint of the model file this gateway loaded for it
     */
    public ContractGate(WorkerRegistry registry, Map<String, String> fingerprints, MeterRegistry meters) {
        this.registry = registry;
        this.fingerprints = Map.copyOf(fingerprints);
        this.meters = meters;
        for (String model : this.fingerprints.keySet()) {
            AtomicInteger n = new AtomicInteger();
            refusedGauges.put(model, n);
            Gauge.builder("tandem.gateway.refused.workers", n, AtomicInteger::get).tag("model", model)
                    .description("Live workers of the model refused for a cluster-contract mismatch").register(meters);
            decide(model);
        }
        this.listener = registry.onChange(e -> decide(e.worker().model()));
    }

    /** The decision for the model's current live workers. */
    public synchronized Decision decide(String model) {
        String fingerprint = fingerprints.get(model);
        if (fingerprint == null) return Decision.NONE;
        List<WorkerRecord> live = registry.liveWorkers(model);
        Cached c = cache.get(model);
        if (c != null && c.live() == live) return c.decision();
        Decision d = ContractFilter.decide(fingerprint, live);
        cache.put(model, new Cached(live, d));
        report(model, d);
        return d;
    }

    /** The live workers of {@code model} that requests may go to. */
    public List<WorkerRecord> accepted(String model) {
        return decide(model).accepted();
    }

    /** Whether a live worker that requests may go to generates for {@code model} (what readiness reports). */
    public boolean generates(String model) {
        return accepted(model).stream().anyMatch(w -> w.role().servesGenerate());
    }

    /** Workers refused right now, over all models. */
    public synchronized int refusedWorkers() {
        return refusedNow.values().stream().mapToInt(Map::size).sum();
    }

    /** Logs and counts refusals not reported yet; forgets workers no longer refused. */
    private synchronized void report(String model, Decision d) {
        Map<String, String> before = refusedNow.computeIfAbsent(model, m -> new HashMap<>());
        Map<String, String> now = new HashMap<>();
        for (Refusal r : d.refused()) {
            String what = r.reason() + " " + r.mismatch().theirs();
            now.put(r.worker().workerId(), what);
            if (!what.equals(before.get(r.worker().workerId()))) {
                log.log(System.Logger.Level.WARNING, r.describe());
                Counter.builder("tandem.gateway.workers.refused")
                        .description("Workers refused for a cluster-contract mismatch (each time one is refused)")
                        .tag("model", model).tag("reason", r.reason()).register(meters).increment();
            }
        }
        for (WorkerRecord w : d.accepted()) {
            if (before.containsKey(w.workerId())) {
                log.log(System.Logger.Level.INFO, "worker {0} is accepted for model ''{1}'' now", w.workerId(), model);
            }
        }
        refusedNow.put(model, now);
        refusedGauges.get(model).set(now.size());
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (Exception e) {
            log.log(System.Logger.Level.DEBUG, "closing the registry listener", e);
        }
    }
}
