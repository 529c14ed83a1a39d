package io.tandem.gateway.dispatch;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;

/** What routing decisions cost and how much of each prompt the chosen worker had cached. */
public interface RoutingMetrics {
    RoutingMetrics NONE = (nanos, cached, prompt) -> {};

    void routed(long decisionNanos, int cachedBlocks, int promptBlocks);

    /**
     * {@code tandem_router_decision_seconds} (a histogram), {@code tandem_router_prompt_blocks_total} and
     * {@code tandem_router_prefix_hit_blocks_total} (their ratio is the routed prefix hit rate).
     */
    static RoutingMetrics micrometer(MeterRegistry meters, String mode) {
        Timer decision = Timer.builder("tandem.router.decision").description("Time to choose a worker")
                // a histogram: quantiles over any window (PromQL's histogram_quantile, or a load test's two scrapes)
                .tag("mode", mode).publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(1))
                .register(meters);
        Counter prompt = Counter.builder("tandem.router.prompt.blocks").description("KV blocks of routed prompts")
                .tag("mode", mode).register(meters);
        Counter hit = Counter.builder("tandem.router.prefix.hit.blocks")
                .description("Prompt blocks the chosen worker already had cached (per the KV index)").tag("mode", mode).register(meters);
        return (nanos, cached, blocks) -> {
            decision.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            prompt.increment(blocks);
            hit.increment(cached);
        };
    }
}
