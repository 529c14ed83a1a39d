package io.tandem.gateway.planner;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tandem.gateway.slo.SloTargets;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerRegistry;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * The gateway's planner: reads the live workers' reports from the registry and the arrival window, keeps the latest
 * {@link PlannerResult}, and exports it as the gauges {@code tandem_planner_recommended_workers{role="prefill"|"decode"}}
 * (this gateway's recommendation) and {@code tandem_planner_demand_workers{role}} (its unrounded demand, which
 * prometheus-adapter sums over the gateway replicas for the HorizontalPodAutoscalers). {@link #refresh} on a timer
 * and on {@code GET /v1/planner}. Thread-safe.
 */
public final class PlanningService implements AutoCloseable {
    public static final String GAUGE = "tandem.planner.recommended.workers";
    public static final String DEMAND_GAUGE = "tandem.planner.demand.workers";
    /** How often the gateway refreshes the recommendation (and learns from the workers' reports). */
    public static final long REFRESH_MILLIS = 2_000;

    private final WorkerRegistry registry;
    private final ArrivalWindow window;
    private final SloTargets slo;
    private final Planner planner;
    private final PoolObserver pool;
    private final LongSupplier clockMillis;
    private volatile PlannerResult latest;
    private List<Gauge> gauges = List.of();
    private MeterRegistry meters;

    /** @param slo the gateway's default targets ({@code --slo-ttft-ms}, {@code --slo-tpot-ms}); 0 = the planner's default */
    public PlanningService(WorkerRegistry registry, ArrivalWindow window, SloTargets slo, PlannerSettings settings) {
        this(registry, window, slo, settings, System::currentTimeMillis);
    }

    PlanningService(WorkerRegistry registry, ArrivalWindow window, SloTargets slo, PlannerSettings settings,
                    LongSupplier clockMillis) {
        this.registry = registry;
        this.window = window;
        this.slo = slo;
        this.planner = new Planner(settings);
        this.pool = new PoolObserver(ArrivalWindow.DEFAULT_WINDOW.toMillis());
        this.clockMillis = clockMillis;
        refresh();
    }

    /** Recomputes the recommendation from the registry's current reports and the window. */
    public synchronized PlannerResult refresh() {
        List<WorkerReport> reports = registry.liveWorkers().stream().map(PlanningService::report).toList();
        latest = planner.plan(window.mix(), pool.observe(clockMillis.getAsLong(), reports), slo);
        return latest;
    }

    public PlannerResult latest() {
        return latest;
    }

    /** Exports the latest recommendation as {@value #GAUGE}{role}. */
    public synchronized void bindGauges(MeterRegistry registry) {
        meters = registry;
        gauges = List.of(
                Gauge.builder(GAUGE, this, s -> s.latest().prefillWorkers()).tag("role", "prefill")
                        .description("Prefill workers the planner recommends for the observed load (GET /v1/planner)")
                        .register(registry),
                Gauge.builder(GAUGE, this, s -> s.latest().decodeWorkers()).tag("role", "decode")
                        .description("Decode workers the planner recommends for the observed load (GET /v1/planner)")
                        .register(registry),
                Gauge.builder(DEMAND_GAUGE, this, s -> s.latest().prefillDemand()).tag("role", "prefill")
                        .description("Prefill workers the requests this gateway served need, unrounded (sum over gateways)")
                        .register(registry),
                Gauge.builder(DEMAND_GAUGE, this, s -> s.latest().decodeDemand()).tag("role", "decode")
                        .description("Decode workers the requests this gateway served need, unrounded (sum over gateways)")
                        .register(registry));
    }

    @Override
    public synchronized void close() {
        if (meters != null) gauges.forEach(meters::remove);
        gauges = List.of();
    }

    private static WorkerReport report(WorkerRecord w) {
        return new WorkerReport(w.workerId(), w.role(), w.load(), w.heartbeatMillis(),
                w.contract() == null ? 0 : w.contract().blockSize());
    }
}
