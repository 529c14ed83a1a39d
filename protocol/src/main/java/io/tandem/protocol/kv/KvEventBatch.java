package io.tandem.protocol.kv;

import java.util.List;
import java.util.Objects;

/**
 * The KV events one worker's engine produced in one step, in the order they happened.
 * {@code seq} starts at 0 for a worker process and grows by exactly one per batch, so a
 * consumer that sees a gap knows it missed events and must resync that worker.
 */
public record KvEventBatch(String workerId, long seq, long timestampMillis, List<KvEvent> events) {
    public KvEventBatch {
        Objects.requireNonNull(workerId, "workerId");
        if (seq < 0) throw new IllegalArgumentException("seq must be >= 0, got " + seq);
        events = List.copyOf(events);
    }
}
