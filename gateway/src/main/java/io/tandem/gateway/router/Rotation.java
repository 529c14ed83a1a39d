package io.tandem.gateway.router;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** A rotating start position per model, so that equal workers take turns. */
final class Rotation {
    private final Map<String, AtomicLong> next = new ConcurrentHashMap<>();

    /** The next position in {@code [0, size)} for {@code model}. */
    int next(String model, int size) {
        return (int) Math.floorMod(next.computeIfAbsent(model, m -> new AtomicLong()).getAndIncrement(), (long) size);
    }
}
