package io.tandem.gateway.slo;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * The gateway's SLO machinery in one place, owned by the dispatcher's event loop: the admission mode, the objectives
 * of requests that carry none, the TTFT predictor with a {@link PrefillQueue} per worker (fed with every request this
 * gateway sends, SLO or not, so the queue model is complete), and the meters.
 */
public final class SloControl {
    private final SloAdmission admission;
    private final SloTargets defaults;
    private final TtftPredictor predictor;
    private final SloMetrics metrics;
    private final Map<String, PrefillQueue> queues = new HashMap<>();

    public SloControl(SloAdmission admission, SloTargets defaults, TtftPredictor predictor, SloMetrics metrics) {
        this.admission = Objects.requireNonNull(admission);
        this.defaults = Objects.requireNonNull(defaults);
        this.predictor = Objects.requireNonNull(predictor);
        this.metrics = Objects.requireNonNull(metrics);
    }

    /** No admission control, no default objectives, meters nobody scrapes (programmatic dispatchers, tests). */
    public static SloControl off() {
        return new SloControl(SloAdmission.NONE, SloTargets.NONE, new TtftPredictor(TtftPredictor.DEFAULT_CHUNK_TOKENS),
                new SloMetrics(new SimpleMeterRegistry()));
    }

    public SloAdmission admission() {
        return admission;
    }

    public SloTargets defaults() {
        return defaults;
    }

    public SloMetrics metrics() {
        return metrics;
    }

    /** The TTFT a prompt with {@code uncachedTokens} uncached tokens would get on {@code worker} if sent now. */
    public OptionalDouble predictMillis(WorkerRecord worker, long uncachedTokens, long nowNanos) {
        PrefillQueue q = queues.get(worker.workerId());
        if (q != null) return q.predictMillis(worker.load(), uncachedTokens, nowNanos);
        // nothing sent there yet: the worker's report alone (no queue to allocate per candidate and request)
        WorkerLoad load = worker.load();
        if (load == null || !load.measured()) return OptionalDouble.empty();
        return predictor.predictMillis(load, load.queuedPromptTokens(), uncachedTokens);
    }

    /** Attempt {@code key} was sent to {@code worker}; returns its predicted TTFT (NaN: none). */
    public double sent(WorkerRecord worker, String key, long uncachedTokens, long nowNanos) {
        PrefillQueue q = queues.computeIfAbsent(worker.workerId(), id -> new PrefillQueue(predictor));
        return q.sent(key, worker.load(), uncachedTokens, nowNanos).orElse(Double.NaN);
    }

    /** Attempt {@code key}'s first token came, or it ended without one. */
    public void done(String workerId, String key, long nowNanos) {
        PrefillQueue q = queues.get(workerId);
        if (q != null) q.done(key, nowNanos);
    }

    /** The worker left the registry. */
    public void forget(String workerId) {
        queues.remove(workerId);
    }
}
