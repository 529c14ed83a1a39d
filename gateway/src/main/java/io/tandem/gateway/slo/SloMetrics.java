package io.tandem.gateway.slo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The gateway's SLO meters, named as the dashboards query them:
 * <ul>
 *   <li>{@code tandem_slo_requests_total{result="met|missed|rejected"}}: requests with an SLO, by outcome; goodput
 *       (requests per second that met both SLOs) is {@code rate(tandem_slo_requests_total{result="met"}[1m])};</li>
 *   <li>{@code tandem_slo_ttft_prediction_error_ratio}: {@code actual / predicted} TTFT of the routed worker, a
 *       histogram (1 is a perfect prediction, 1.3 a TTFT 30 % later than predicted, 0.7 30 % earlier; Prometheus
 *       buckets need positive bounds, hence the ratio rather than the signed relative error).</li>
 * </ul>
 */
public final class SloMetrics {
    private final Counter met, missed, rejected;
    private final DistributionSummary predictionError;

    public SloMetrics(MeterRegistry registry) {
        this.met = outcome(registry, "met");
        this.missed = outcome(registry, "missed");
        this.rejected = outcome(registry, "rejected");
        this.predictionError = DistributionSummary.builder("tandem.slo.ttft.prediction.error.ratio")
                .description("actual / predicted time to first token on the routed worker (1 = exact)")
                .serviceLevelObjectives(0.5, 0.7, 0.9, 1, 1.1, 1.3, 1.5, 2, 3)
                .register(registry);
    }

    private static Counter outcome(MeterRegistry registry, String result) {
        return Counter.builder("tandem.slo.requests").tag("result", result)
                .description("requests with an SLO by outcome; rate of met is the goodput").register(registry);
    }

    /** A request with an SLO finished: met when its TTFT and mean TPOT are within their objectives. */
    public void finished(SloTargets slo, double ttftMs, double meanTpotMs) {
        if (!slo.any()) return;
        (slo.met(ttftMs, meanTpotMs) ? met : missed).increment();
    }

    /** Refused before any worker saw it ({@code --admission slo}). */
    public void rejected() {
        rejected.increment();
    }

    /** The routed worker's predicted TTFT against the one measured. */
    public void predicted(double predictedMs, double actualMs) {
        if (predictedMs > 0) predictionError.record(TtftPredictor.errorRatio(actualMs, predictedMs));
    }
}
