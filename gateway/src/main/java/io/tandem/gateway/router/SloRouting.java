package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;

import java.util.OptionalDouble;

/**
 * What a request's TTFT objective asks of the router: the predicted time to first token on each candidate, the time
 * left within the objective, and whether a request no candidate can serve within it is refused (the router then does
 * not record it as routed).
 *
 * @param estimate predicted TTFT in ms of the request on a worker holding {@code cachedBlocks} of its prompt (empty
 *                 when that worker has not measured its rates); null: no prediction
 * @param budgetMs the TTFT objective less the time the request has spent already (negative once overdue); NaN: no
 *                 objective
 * @param refuse   {@code --admission slo}: no candidate within the budget means no route
 */
public record SloRouting(TtftEstimate estimate, double budgetMs, boolean refuse) {
    public static final SloRouting NONE = new SloRouting(null, Double.NaN, false);

    @FunctionalInterface
    public interface TtftEstimate {
        OptionalDouble millis(WorkerRecord worker, int cachedBlocks);
    }
}
