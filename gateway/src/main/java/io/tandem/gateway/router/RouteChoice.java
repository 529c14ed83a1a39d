package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;

/**
 * The worker a request goes to and how much of its prompt that worker is known to have cached.
 *
 * @param predictedTtftMs the chosen worker's predicted TTFT (NaN: no prediction)
 * @param bestTtftMs      the lowest predicted TTFT over the candidates (NaN: no prediction)
 * @param unattainable    refused by {@link SloRouting#refuse()}: no candidate is predicted within the TTFT budget
 */
public record RouteChoice(WorkerRecord worker, int cachedBlocks, int promptBlocks, double predictedTtftMs, double bestTtftMs,
                          boolean unattainable) {
    public RouteChoice(WorkerRecord worker, int cachedBlocks, int promptBlocks) {
        this(worker, cachedBlocks, promptBlocks, Double.NaN, Double.NaN, false);
    }
}
