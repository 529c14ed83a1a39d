package io.tandem.gateway.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Outcomes of the soak's requests, counted from the driver's event loops. */
public final class Tally {
    /** Failure details kept for the report (the first ones; the counts by kind are complete). */
    static final int KEPT_SAMPLES = 10;

    private final LongAdder completed = new LongAdder();
    private final LongAdder disconnected = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final LongAdder chunks = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> failures = new ConcurrentHashMap<>();
    private final List<String> samples = new ArrayList<>();

    public void record(StreamOutcome outcome) {
        switch (outcome) {
            case StreamOutcome.Completed c -> {
                completed.increment();
                chunks.add(c.chunks());
            }
            case StreamOutcome.Disconnected d -> {
                disconnected.increment();
                chunks.add(d.chunks());
            }
            case StreamOutcome.Cancelled c -> {
                cancelled.increment();
                chunks.add(c.chunks());
            }
            case StreamOutcome.Failed f -> {
                failures.computeIfAbsent(f.kind(), k -> new LongAdder()).increment();
                synchronized (samples) {
                    if (samples.size() < KEPT_SAMPLES) samples.add(f.kind() + ": " + f.detail());
                }
            }
        }
    }

    /** What was counted so far. */
    public Counts counts() {
        Map<String, Long> byKind = new TreeMap<>();
        failures.forEach((k, v) -> byKind.put(k, v.sum()));
        List<String> kept;
        synchronized (samples) {
            kept = List.copyOf(samples);
        }
        return new Counts(completed.sum(), disconnected.sum(), cancelled.sum(),
                byKind.values().stream().mapToLong(Long::longValue).sum(), chunks.sum(), byKind, kept);
    }

    /**
     * @param chunks         content chunks received by every request (about one token each)
     * @param failuresByKind failed requests by {@link StreamOutcome.Failed#kind()}
     * @param failureSamples the first failures' details
     */
    public record Counts(long completed, long disconnected, long cancelled, long failed, long chunks,
                         Map<String, Long> failuresByKind, List<String> failureSamples) {
        public long requests() {
            return completed + disconnected + cancelled + failed;
        }
    }
}
