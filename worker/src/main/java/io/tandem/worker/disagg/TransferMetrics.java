package io.tandem.worker.disagg;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Disaggregation metrics of one worker: KV bytes and transfer time by backend, where prompts were prefilled
 * (remote or local), fallbacks to local prefill by reason, and the prefill queue depth.
 */
public final class TransferMetrics {
    private final MeterRegistry meters;
    private final String workerId;
    private final Timer exposed;
    /** Meters per backend (or where / reason), registered once: a WRITE per layer must not look them up every time. */
    private final Map<String, Counter> bytesByBackend = new ConcurrentHashMap<>(), prefills = new ConcurrentHashMap<>(),
            fallbacks = new ConcurrentHashMap<>();
    private final Map<String, Timer> secondsByBackend = new ConcurrentHashMap<>();
    private final Map<String, Counter> refusedRoutes = new ConcurrentHashMap<>();

    public TransferMetrics(MeterRegistry meters, String workerId) {
        this.meters = meters;
        this.workerId = workerId;
        this.exposed = Timer.builder("tandem_transfer_exposed_seconds")
                .description("transfer time left after a prefill's compute, on the first token's path")
                .tag("worker", workerId).publishPercentileHistogram().register(meters);
    }

    /** One completed WRITE or READ. */
    void transferred(String backend, long bytes, long nanos) {
        bytesByBackend.computeIfAbsent(backend, b -> Counter.builder("tandem_transfer_bytes")
                .description("KV bytes moved between workers").baseUnit("bytes")
                .tag("worker", workerId).tag("backend", b).register(meters)).increment(bytes);
        secondsByBackend.computeIfAbsent(backend, b -> Timer.builder("tandem_transfer_seconds")
                .description("time from posting a KV transfer to its completion")
                .tag("worker", workerId).tag("backend", b).publishPercentileHistogram().register(meters))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * How long a prefill worker, done computing a prompt, still waited for its KV transfers before the first token
     * could go out: the transfer time on the time-to-first-token path (layer-wise transfer hides the rest).
     */
    void exposed(long nanos) {
        exposed.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** A decode worker's prompt was prefilled {@code where} (remote or local). */
    void prefilled(String where) {
        prefills.computeIfAbsent(where, w -> Counter.builder("tandem_prefills").description("prompts prefilled, by where")
                .tag("worker", workerId).tag("where", w).register(meters)).increment();
    }

    /** A prompt that qualified for remote prefill was prefilled locally instead, and why. */
    void fellBack(String reason) {
        fallbacks.computeIfAbsent(reason, r -> Counter.builder("tandem_prefill_fallbacks")
                .description("remote prefills that fell back to local prefill, by reason")
                .tag("worker", workerId).tag("reason", r).register(meters)).increment();
    }

    /** A prefill worker refused to write: the decode peer it reached was not the worker, member or epoch it should be. */
    void peerMismatch() {
        Counter.builder("tandem_transfer_peer_mismatches").description("remote prefills refused because the decode peer "
                + "reached was not the one the registry names (worker id, member, epoch)").tag("worker", workerId)
                .register(meters).increment();
    }

    /** A {@code GET /route} whose authentication failed (a wrong secret, a replay, garbage). */
    public void routeRefused(String reason) {
        refusedRoutes.computeIfAbsent(reason, r -> refusedCounter("route", r)).increment();
    }

    private Counter refusedCounter(String channel, String reason) {
        return Counter.builder("tandem_transfer_refused_connections").description("data-plane connections and bootstrap "
                + "requests refused before any KV moved, by channel and reason").tag("worker", workerId)
                .tag("channel", channel).tag("reason", reason).register(meters);
    }

    /** The agent's own counts: control connections refused by reason, and writes dropped by a fence. */
    public void agent(TransferAgent agent) {
        for (String reason : TransferStats.REASONS) {
            FunctionCounter.builder("tandem_transfer_refused_connections", agent, a -> a.stats().refused(reason))
                    .description("data-plane connections and bootstrap requests refused before any KV moved, by channel and reason")
                    .tag("worker", workerId).tag("channel", "control").tag("reason", reason).register(meters);
        }
        FunctionCounter.builder("tandem_transfer_fenced", agent, a -> a.stats().fencedWrites())
                .description("KV writes dropped because their fencing token no longer owned the blocks (late, cancelled, reused)")
                .tag("worker", workerId).register(meters);
    }

    void queueDepth(Supplier<Number> depth) {
        Gauge.builder("tandem_prefill_queue_depth", depth).description("remote prefills this prefill worker holds")
                .tag("worker", workerId).register(meters);
    }
}
