package io.tandem.worker.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.tandem.engine.Engine;
import io.tandem.protocol.WorkerRole;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntSupplier;

/**
 * A worker's meters, tagged with its id and role (several workers may share one registry in
 * embedded mode). Prometheus names: {@code tandem_worker_requests_total{outcome}},
 * {@code tandem_worker_prompt_tokens_total}, {@code tandem_worker_generated_tokens_total},
 * {@code tandem_worker_running_requests}, {@code tandem_worker_waiting_requests} (engine queue
 * depth), {@code tandem_worker_active_blocks}, {@code tandem_worker_streams} (requests held by the worker).
 */
public final class WorkerMetrics implements AutoCloseable {
    /** Request outcomes counted by {@code tandem_worker_requests_total}. */
    public static final List<String> OUTCOMES = List.of("stop", "length", "cancelled", "failed", "rejected");

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new ArrayList<>();
    private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();
    private final Counter promptTokens;
    private final Counter generatedTokens;

    public WorkerMetrics(MeterRegistry registry, String workerId, WorkerRole role, Engine engine, IntSupplier streams) {
        this.registry = registry;
        this.tags = Tags.of("worker", workerId, "role", role.name().toLowerCase(Locale.ROOT));
        for (String outcome : OUTCOMES) requests.put(outcome, counter("tandem.worker.requests", "Generate requests by outcome", Tags.of("outcome", outcome)));
        promptTokens = counter("tandem.worker.prompt.tokens", "Prompt tokens of accepted requests", Tags.empty());
        generatedTokens = counter("tandem.worker.generated.tokens", "Tokens the engine generated", Tags.empty());
        gauge("tandem.worker.running.requests", "Requests in the engine's running batch", () -> engine.load().runningRequests());
        gauge("tandem.worker.waiting.requests", "Requests queued in the engine for admission", () -> engine.load().waitingRequests());
        gauge("tandem.worker.active.blocks", "KV blocks held by running requests", () -> engine.load().activeBlocks());
        gauge("tandem.worker.streams", "Requests the worker holds a stream for", streams);
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

    public void generated(int tokens) {
        generatedTokens.increment(tokens);
    }

    /** Removes this worker's meters (its engine is gone). */
    @Override
    public void close() {
        meters.forEach(registry::remove);
        meters.clear();
    }
}
