package io.tandem.transfer.control;

import io.tandem.transfer.TransferStats;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counts refused control connections by reason (the reasons of {@link TransferStats#REASONS}). Thread-safe. */
public final class Refusals {
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    public Refusals() {
        for (String r : TransferStats.REASONS) counts.put(r, new LongAdder());
    }

    public void count(String reason) {
        counts.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String r : TransferStats.REASONS) out.put(r, counts.get(r).sum());
        counts.forEach((r, n) -> out.putIfAbsent(r, n.sum()));
        return out;
    }
}
