package io.tandem.gateway.deploy;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PromQlMetricNamesTest {

    @Test
    void histogramQuantileOverARateKeepsOnlyTheBucketSeries() {
        assertEquals(Set.of("tandem_gateway_time_to_first_token_seconds_bucket"), PromQlMetricNames.of(
                "histogram_quantile(0.99, sum by (le, model) (rate(tandem_gateway_time_to_first_token_seconds_bucket"
                        + "{job=~\"$job\", le!=\"+Inf\"}[$__rate_interval])))"));
    }

    @Test
    void binaryOperatorsKeywordsAndNumbersAreNotNames() {
        assertEquals(Set.of("tandem_gateway_requests_total", "tandem_worker_active_blocks", "tandem_worker_free_blocks"),
                PromQlMetricNames.of("sum(rate(tandem_gateway_requests_total{status=~\"5..\"}[5m])) / ignoring(status) "
                        + "group_left sum without (worker) (tandem_worker_active_blocks) > 0.05 and on (worker) "
                        + "tandem_worker_free_blocks offset 1h < 1e3 or vector(0)"));
    }

    @Test
    void recordingRuleNamesWithColonsAndBareSelectorsAreNames() {
        assertEquals(Set.of("tandem:ttft_p99_seconds", "tandem_slo_ttft_seconds"),
                PromQlMetricNames.of("tandem:ttft_p99_seconds > on() group_left() tandem_slo_ttft_seconds"));
    }

    @Test
    void grafanaVariablesAndStringsAreIgnored() {
        assertEquals(Set.of("tandem_prefills_total"),
                PromQlMetricNames.of("sum by (where) (increase(tandem_prefills_total{worker=~\"${worker:regex}\", "
                        + "name=\"not_a_metric\"}[$__range]))"));
    }

    @Test
    void absentAndCountAreFunctionsEvenWithSpaceBeforeTheParenthesis() {
        assertEquals(Set.of("tandem_worker_running_requests"),
                PromQlMetricNames.of("count (tandem_worker_running_requests) == 0 or absent (tandem_worker_running_requests)"));
    }
}
