package io.tandem.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tandem.gateway.planner.ArrivalWindow;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's meters. Micrometer names map to Prometheus as {@code tandem_gateway_*}:
 * {@code requests_total{endpoint,status}}, {@code time_to_first_token_seconds},
 * {@code inter_token_latency_seconds}, {@code request_duration_seconds{endpoint}} (histograms),
 * {@code input_tokens_total}, {@code output_tokens_total}, {@code in_flight_requests}; the gRPC API's
 * {@code grpc_requests_total{method,code}} and {@code grpc_request_duration_seconds{method}} (a call's method is its
 * full name, e.g. {@code inference.GRPCInferenceService/ModelStreamInfer}; the generation meters count gRPC
 * generations too).
 */
public final class GatewayMetrics {

    private final MeterRegistry registry;
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Counter inputTokens;
    private final Counter outputTokens;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final io.tandem.gateway.slo.SloMetrics slo;
    private final ArrivalWindow arrivals = new ArrivalWindow();

    public GatewayMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.timeToFirstToken = Timer.builder("tandem.gateway.time.to.first.token")
                .description("Time from receiving a generation request to its first token")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        this.interTokenLatency = Timer.builder("tandem.gateway.inter.token.latency")
                .description("Time between consecutive generated tokens of a request")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        this.inputTokens = Counter.builder("tandem.gateway.input.tokens")
                .description("Prompt tokens of finished generation requests").register(registry);
        this.outputTokens = Counter.builder("tandem.gateway.output.tokens")
                .description("Generated tokens of finished generation requests").register(registry);
        Gauge.builder("tandem.gateway.in.flight.requests", inFlight, AtomicInteger::get)
                .description("Generation requests being served").register(registry);
        this.slo = new io.tandem.gateway.slo.SloMetrics(registry);
    }

    /**
     * {@code tandem_gateway_ready_workers{role}}: the live workers this gateway could route to, not draining, by role
     * (prefill, decode, both) — what the "no ready worker" alert watches, as the gateway sees the registry.
     */
    public void bindReadyWorkers(java.util.function.Supplier<java.util.List<io.tandem.protocol.WorkerRecord>> live) {
        for (io.tandem.protocol.WorkerRole role : io.tandem.protocol.WorkerRole.values()) {
            Gauge.builder("tandem.gateway.ready.workers", () -> live.get().stream()
                            .filter(w -> w.role() == role && (w.load() == null || !w.load().draining())).count())
                    .description("Live, not draining workers in this gateway's registry, by role")
                    .tag("role", role.name().toLowerCase(java.util.Locale.ROOT)).register(registry);
        }
    }

    /** Requests with SLOs by outcome, and the TTFT prediction error. */
    public io.tandem.gateway.slo.SloMetrics slo() {
        return slo;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** One HTTP request answered (any endpoint, any status). */
    public void request(String endpoint, int status) {
        Counter.builder("tandem.gateway.requests")
                .description("HTTP requests by endpoint and status")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status))
                .register(registry).increment();
    }

    public void requestDuration(String endpoint, long nanos) {
        Timer.builder("tandem.gateway.request.duration")
                .description("Time to answer a request completely (a stream until its end)")
                .tag("endpoint", endpoint)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * One gRPC call ended, with its status {@code code} (OK, INVALID_ARGUMENT, CANCELLED...), after {@code nanos}
     * (a stream: until its end). {@code method} is the full method name, or {@code other} for an unknown one.
     */
    public void grpcCall(String method, String code, long nanos) {
        Counter.builder("tandem.gateway.grpc.requests")
                .description("gRPC calls by method and status code")
                .tag("method", method).tag("code", code)
                .register(registry).increment();
        Timer.builder("tandem.gateway.grpc.request.duration")
                .description("Time to answer a gRPC call completely (a stream until its end)")
                .tag("method", method)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void timeToFirstToken(long nanos) {
        timeToFirstToken.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void interTokenLatency(long nanos) {
        interTokenLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    public void tokens(int input, int output) {
        inputTokens.increment(input);
        outputTokens.increment(output);
    }

    /** The arrival rate and token mix of the last minute's finished generations: the planner's input. */
    public ArrivalWindow arrivals() {
        return arrivals;
    }

    public void generationStarted() {
        inFlight.incrementAndGet();
    }

    public void generationEnded() {
        inFlight.decrementAndGet();
    }

    public int inFlight() {
        return inFlight.get();
    }
}
