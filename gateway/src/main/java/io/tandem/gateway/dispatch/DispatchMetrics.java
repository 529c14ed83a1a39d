package io.tandem.gateway.dispatch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

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
     * {@code tandem_migrations_total{reason}}, {@code tandem_gateway_queue_length{model}},
     * {@code tandem_gateway_queue_wait_seconds} (p50, p99) and {@code tandem_gateway_queue_refused_total{result}}.
     */
    static DispatchMetrics micrometer(MeterRegistry meters) {
        for (MigrationReason r : MigrationReason.values()) {
            Counter.builder("tandem.migrations").description("Generations moved to another worker").tag("reason", r.label())
                    .register(meters);
        }
        Timer wait = Timer.builder("tandem.gateway.queue.wait").description("Time requests waited in the gateway's queue")
                .publishPercentiles(0.5, 0.99).register(meters);
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
            public void watchQueue(String model, ToIntFunction<String> length) {
                Gauge.builder("tandem.gateway.queue.length", () -> length.applyAsInt(model))
                        .description("Requests waiting in the gateway for a worker").tag("model", model).register(meters);
            }
        };
    }
}
