package io.tandem.gateway.slo;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SloMetricsTest {
    @Test
    void exportsTheNamesTheDashboardsQuery() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        SloMetrics m = new SloMetrics(registry);
        SloTargets slo = new SloTargets(100, 20);
        m.finished(slo, 90, 15);   // met
        m.finished(slo, 90, 25);   // TPOT missed
        m.finished(slo, 120, 15);  // TTFT missed
        m.finished(SloTargets.NONE, 1e6, 1e6); // no SLO: not counted
        m.rejected();
        m.predicted(100, 130);
        m.predicted(100, 65);  // 35 % early: below the 70 bucket's bound, not rounded up into 100's
        String text = registry.scrape();
        assertTrue(text.contains("tandem_slo_requests_total{result=\"met\"} 1.0"), text);
        assertTrue(text.contains("tandem_slo_requests_total{result=\"missed\"} 2.0"), text);
        assertTrue(text.contains("tandem_slo_requests_total{result=\"rejected\"} 1.0"), text);
        assertTrue(text.contains("tandem_slo_ttft_actual_to_predicted_percent_bucket{le=\"70.0\"} 1"), text);
        assertTrue(text.contains("tandem_slo_ttft_actual_to_predicted_percent_bucket{le=\"100.0\"} 1"), text);
        assertTrue(text.contains("tandem_slo_ttft_actual_to_predicted_percent_bucket{le=\"130.0\"} 2"), text);
        assertTrue(text.contains("tandem_slo_ttft_actual_to_predicted_percent_sum 195.0"), text);
    }
}
