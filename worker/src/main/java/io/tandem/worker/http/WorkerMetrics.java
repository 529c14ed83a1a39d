package io.tandem.worker.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tandem.engine.Engine;
import io.tandem.engine.cpu.CpuEngine;
import io.tandem.engine.cpu.StepObserver;
import io.tandem.engine.kernels.KernelBackend;
import io.tandem.engine.kernels.Kernels;
import io.tandem.protocol.WorkerRole;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A worker's meters, tagged with its id and role (several workers may share one registry in
 * embedded mode). Prometheus names: {@code tandem_worker_requests_total{outcome}},
 * {@code tandem_worker_prompt_tokens_total}, {@code tandem_worker_cached_prompt_tokens_total} (prompt tokens served
 * from its prefix cache, counted when a request ends: its hit rate), {@code tandem_worker_generated_tokens_total},
 * {@code tandem_worker_running_requests}, {@code tandem_worker_waiting_requests} (engine queue
 * depth), {@code tandem_worker_active_blocks}, {@code tandem_worker_free_blocks}, {@code tandem_worker_streams} (requests held by the worker), and
 * for an engine that runs CPU kernels {@code tandem_engine_kernels_info{backend="vector"|"scalar", lanes}} = 1 and
 * {@code tandem_engine_step_seconds{kind="decode"|"prefill"|"mixed"}}, a histogram of its steps by what they held.
 */
public final class WorkerMetrics implements AutoCloseable {
    /** Request outcomes counted by {@code tandem_worker_requests_total}. */
    public static final List<String> OUTCOMES = List.of("stop", "length", "cancelled", "failed", "rejected");
    /** The meter that says which CPU kernels the worker's engine runs (its tags do; the value is always 1). */
    static final String KERNELS_INFO = "tandem.engine.kernels.info";

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();
    private final Counter promptTokens;
    private final Counter cachedPromptTokens;
    private final Counter generatedTokens;
    private final CpuEngine cpuEngine;

    public WorkerMetrics(MeterRegistry registry, String workerId, WorkerRole role, Engine engine, IntSupplier streams) {
        this.registry = registry;
        this.tags = Tags.of("worker", workerId, "role", role.name().toLowerCase(Locale.ROOT));
        for (String outcome : OUTCOMES) requests.put(outcome, counter("tandem.worker.requests", "Generate requests by outcome", Tags.of("outcome", outcome)));
        promptTokens = counter("tandem.worker.prompt.tokens", "Prompt tokens of accepted requests", Tags.empty());
        cachedPromptTokens = counter("tandem.worker.cached.prompt.tokens",
                "Prompt tokens of ended requests that came from the prefix cache", Tags.empty());
        generatedTokens = counter("tandem.worker.generated.tokens", "Tokens the engine generated", Tags.empty());
        gauge("tandem.worker.running.requests", "Requests in the engine's running batch", () -> engine.load().runningRequests());
        gauge("tandem.worker.waiting.requests", "Requests queued in the engine for admission", () -> engine.load().waitingRequests());
        gauge("tandem.worker.active.blocks", "KV blocks held by running requests", () -> engine.load().activeBlocks());
        gauge("tandem.worker.free.blocks", "KV blocks an allocation could take (empty or only cached)", () -> {
            var load = engine.load();
            return load.totalBlocks() - load.activeBlocks();
        });
        gauge("tandem.worker.streams", "Requests the worker holds a stream for", streams);
        KernelBackend kernels = kernelsOf(engine);
        if (kernels != null) {
            meters.add(Gauge.builder(KERNELS_INFO, () -> 1).strongReference(true)
                    .description("The CPU kernels the engine runs (vector or scalar) and their float lanes")
                    .tags(tags.and("backend", kernels.name(), "lanes", Integer.toString(kernels.lanes()))).register(registry));
        }
        cpuEngine = engine instanceof CpuEngine cpu ? cpu : null;
        if (cpuEngine != null) cpuEngine.observeSteps(stepTimers());
    }

    /**
     * {@code tandem_engine_step_seconds{kind}}: a decode-only step is the streams' token gap; a prefill or mixed step
     * shows what prompt chunks cost the streams beside them (the engine's {@code step-latency-target-ms} bounds it).
     */
    private StepObserver stepTimers() {
        Timer decode = stepTimer("decode"), prefill = stepTimer("prefill"), mixed = stepTimer("mixed");
        return (prefillTokens, decodes, nanos) -> {
            Timer t = prefillTokens == 0 ? decode : decodes == 0 ? prefill : mixed;
            t.record(nanos, TimeUnit.NANOSECONDS);
        };
    }

    private Timer stepTimer(String kind) {
        Timer t = Timer.builder("tandem.engine.step")
                .description("Engine steps (forward pass, sampling, delivery) by what they held: "
                        + "decode only, prompt only, or both")
                .tags(tags.and("kind", kind))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        meters.add(t);
        return t;
    }

    /** The kernels {@code engine} runs, or null for an engine without CPU kernels (the simulated one). */
    public static KernelBackend kernelsOf(Engine engine) {
        return engine instanceof CpuEngine cpu ? Kernels.describe(cpu.config().kernels()) : null;
    }

    /**
     * What the {@code tandem_engine_kernels_info} meter of {@code workerId} in {@code registry} says, as JSON
     * ({@code {"backend": "vector", "lanes": 16}}), or null when there is none.
     */
    static io.vertx.core.json.JsonObject kernelsInfo(MeterRegistry registry, String workerId) {
        Meter m = registry.find(KERNELS_INFO).tag("worker", workerId).meter();
        if (m == null) return null;
        return new io.vertx.core.json.JsonObject().put("backend", m.getId().getTag("backend"))
                .put("lanes", Integer.parseInt(m.getId().getTag("lanes")));
    }

    private Counter counter(String name, String help, Tags extra) {
        Counter c = Counter.builder(name).description(help).tags(tags.and(extra)).register(registry);
        meters.add(c);
        return c;
    }

    private void gauge(String name, String help, IntSupplier value) {
        meters.add(Gauge.builder(name, value, IntSupplier::getAsInt).strongReference(true) // the supplier is ours alone
                .description(help).tags(tags).register(registry));
    }

    public void accepted(int promptTokenCount) {
        promptTokens.increment(promptTokenCount);
    }

    public void ended(String outcome) {
        requests.getOrDefault(outcome, requests.get("failed")).increment();
    }

    /** A request ended having found {@code tokens} of its prompt in the prefix cache. */
    public void cachedPromptTokens(int tokens) {
        if (tokens > 0) cachedPromptTokens.increment(tokens);
    }

    public void generated(int tokens) {
        generatedTokens.increment(tokens);
    }

    /** Removes this worker's meters (its engine is gone). */
    @Override
    public void close() {
        if (cpuEngine != null) cpuEngine.observeSteps(StepObserver.NONE);
        meters.forEach(registry::remove);
        meters.clear();
    }
}
