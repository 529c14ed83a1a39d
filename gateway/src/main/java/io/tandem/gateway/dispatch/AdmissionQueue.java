package io.tandem.gateway.dispatch;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.ToIntFunction;
import java.util.function.ToLongFunction;

/**
 * The gateway's waiting room: per model, the requests no worker could take yet, bounded, in priority order (lower
 * first, as vLLM's {@code priority}) and first come, first served within a priority. An entry put back after a failed
 * try keeps its place, because the order is by arrival number, not by insertion. Pure data; no timers, no I/O.
 *
 * @param <T> the queued item
 */
final class AdmissionQueue<T> {
    private final int capacityPerModel;
    private final Comparator<T> order;
    private final Map<String, PriorityQueue<T>> byModel = new HashMap<>();

    /**
     * @param capacityPerModel how many items one model may hold
     * @param priority         an item's priority, lower served first
     * @param arrival          an item's arrival number, lower served first among equal priorities
     */
    AdmissionQueue(int capacityPerModel, ToIntFunction<T> priority, ToLongFunction<T> arrival) {
        this.capacityPerModel = capacityPerModel;
        this.order = Comparator.comparingInt(priority).thenComparingLong(arrival);
    }

    /** Queues {@code item}; false when the model's queue is full. */
    boolean offer(String model, T item) {
        PriorityQueue<T> q = byModel.computeIfAbsent(model, m -> new PriorityQueue<>(order));
        if (q.size() >= capacityPerModel) return false;
        q.add(item);
        return true;
    }

    /** Puts back an item that was taken and could not be placed, whatever the capacity (it held a place already). */
    void putBack(String model, T item) {
        byModel.computeIfAbsent(model, m -> new PriorityQueue<>(order)).add(item);
    }

    /** The next item of {@code model}, removed, or null. */
    T poll(String model) {
        PriorityQueue<T> q = byModel.get(model);
        return q == null ? null : q.poll();
    }

    /** Removes {@code item} if queued (a client that left, a wait that expired). */
    boolean remove(String model, T item) {
        PriorityQueue<T> q = byModel.get(model);
        return q != null && q.remove(item);
    }

    int size(String model) {
        PriorityQueue<T> q = byModel.get(model);
        return q == null ? 0 : q.size();
    }

    int size() {
        int n = 0;
        for (PriorityQueue<T> q : byModel.values()) n += q.size();
        return n;
    }

    Iterable<String> models() {
        return byModel.keySet();
    }
}
