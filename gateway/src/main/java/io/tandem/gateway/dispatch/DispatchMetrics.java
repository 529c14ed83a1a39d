package io.tandem.gateway.dispatch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.ToIntFunction;

/** What the dispatcher counts besides routing: migrations and the admission queue. */
public interface DispatchMetrics {
    DispatchMetrics NONE = new DispatchMetrics() {
        @Override
        public void migrated(MigrationReason reason) {
        }

        @Override
        public void dequeued(long waitedNanos) {
        }

        @Override
        public void queueRefused(String result) {
        }

        @Override
        public void watchQueue(String model, ToIntFunction<String> length) {
        }

        @Override
        public void admitted(long nanos) {
        }

        @Override
        public void relayed(long nanos) {
        }
    };

    /** A generation moved to another worker. */
    void migrated(MigrationReason reason);

    /** A queued request left the queue for a worker after {@code waitedNanos}. */
    void dequeued(long waitedNanos);

    /** A request the queue did not serve: {@code full} (429) or {@code expired} (503). */
    void queueRefused(String result);

    /** Exposes the queue length of {@code model} (called once per model). */
    void watchQueue(String model, ToIntFunction<String> length);

    /**
     * The gateway's own share of admitting a request: from receiving it to a worker's accept (parsing, tokenizing, routing,
     * the event-bus round trip to the worker), without any time it waited in the queue for a busy worker.
     */
    void admitted(long nanos);

    /** The gateway's own share of one token message: from its arrival to its text written to the client. */
    void relayed(long nanos);

    /**
     * {@code tandem_migrations_total{reason}}, {@code tandem_gateway_queue_length{model}},
     * {@code tandem_gateway_queue_wait_seconds} (p50, p99), {@code tandem_gateway_queue_refused_total{result}} and
     * {@code tandem_gateway_overhead_seconds{phase="admit|token"}} (a histogram).
     */
    static DispatchMetrics micrometer(MeterRegistry meters) {
        for (MigrationReason r : MigrationReason.values()) {
            Counter.builder("tandem.migrations").description("Generations moved to another worker").tag("reason", r.label())
                    .register(meters);
        }
        Timer wait = Timer.builder("tandem.gateway.queue.wait").description("Time requests waited in the gateway's queue")
                .publishPercentiles(0.5, 0.99).register(meters);
        Timer admit = overhead(meters, "admit");
        Timer token = overhead(meters, "token");
        return new DispatchMetrics() {
            @Override
            public void migrated(MigrationReason reason) {
                meters.counter("tandem.migrations", "reason", reason.label()).increment();
            }

            @Override
            public void dequeued(long waitedNanos) {
                wait.record(waitedNanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void queueRefused(String result) {
                Counter.builder("tandem.gateway.queue.refused").description("Requests the queue refused (full) or gave up on (expired)")
                        .tag("result", result).register(meters).increment();
            }

            @Override
            public void admitted(long nanos) {
                admit.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void relayed(long nanos) {
                token.record(nanos, TimeUnit.NANOSECONDS);
            }

            @Override
            public void watchQueue(String model, ToIntFunction<String> length) {
                Gauge.builder("tandem.gateway.queue.length", () -> length.applyAsInt(model))
                        .description("Requests waiting in the gateway for a worker").tag("model", model).register(meters);
            }
        };
    }

    /** A histogram: quantiles over any window (PromQL's histogram_quantile, or a load test's two scrapes). */
    private static Timer overhead(MeterRegistry meters, String phase) {
        return Timer.builder("tandem.gateway.overhead")
                .description("Time the gateway adds: admit = request received to worker accepted (queue wait excluded), "
                        + "token = worker token message to client write")
                .tag("phase", phase)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(meters);
    }
}
