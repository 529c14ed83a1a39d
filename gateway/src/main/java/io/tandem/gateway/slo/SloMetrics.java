package io.tandem.gateway.slo;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The gateway's SLO meters, named as the dashboards query them:
 * <ul>
 *   <li>{@code tandem_slo_requests_total{result="met|missed|rejected"}}: requests with an SLO, by outcome; goodput
 *       (requests per second that met both SLOs) is {@code rate(tandem_slo_requests_total{result="met"}[1m])};</li>
 *   <li>{@code tandem_slo_ttft_actual_to_predicted_percent}: {@code 100 × actual / predicted} TTFT of the routed
 *       worker, a histogram (100 is a perfect prediction, 130 a TTFT 30 % later than predicted, 70 30 % earlier;
 *       Prometheus buckets need positive bounds, hence the ratio rather than the signed error; in percent because
 *       Micrometer counts a distribution summary's buckets on whole numbers, and a ratio's 0.7 landed in 1's).</li>
 * </ul>
 */
public final class SloMetrics {
    private final Counter met, missed, rejected;
    private final DistributionSummary predictionError;

    public SloMetrics(MeterRegistry registry) {
        this.met = outcome(registry, "met");
        this.missed = outcome(registry, "missed");
        this.rejected = outcome(registry, "rejected");
        this.predictionError = DistributionSummary.builder("tandem.slo.ttft.actual.to.predicted")
                .baseUnit("percent")
                .description("100 x actual / predicted time to first token on the routed worker (100 = exact)")
                .serviceLevelObjectives(50, 70, 90, 100, 110, 130, 150, 200, 300)
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

    /** A request with an SLO failed after it was admitted (no worker, an error): it met nothing. */
    public void failed(SloTargets slo) {
        if (slo.any()) missed.increment();
    }

    /** Refused before any worker saw it ({@code --admission slo}). */
    public void rejected() {
        rejected.increment();
    }

    /** The routed worker's predicted TTFT against the one measured. */
    public void predicted(double predictedMs, double actualMs) {
        if (predictedMs > 0) predictionError.record(100 * TtftPredictor.errorRatio(actualMs, predictedMs));
    }
}
