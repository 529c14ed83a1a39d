package io.tandem.loadtests.serving;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class PrometheusTextTest {
    private static String histogram(double le1, double le2, double inf) {
        return """
                # HELP tandem_gateway_overhead_seconds x
                # TYPE tandem_gateway_overhead_seconds histogram
                tandem_gateway_overhead_seconds_bucket{phase="token",le="0.001"} %s
                tandem_gateway_overhead_seconds_bucket{phase="token",le="0.002"} %s
                tandem_gateway_overhead_seconds_bucket{phase="token",le="+Inf"} %s
                tandem_gateway_overhead_seconds_count{phase="token"} %s
                tandem_gateway_overhead_seconds_bucket{phase="admit",le="0.001"} 7
                tandem_gateway_overhead_seconds_bucket{phase="admit",le="+Inf"} 7
                tandem_gateway_overhead_seconds{phase="token",quantile="0.99"} 0.0015
                """.formatted(le1, le2, inf, inf);
    }

    @Test
    void quantilesOfTheWindowBetweenTwoScrapes() {
        PrometheusText before = PrometheusText.parse(histogram(100, 100, 100));
        PrometheusText after = PrometheusText.parse(histogram(110, 200, 200)); // window: 10 below 1 ms, 90 in (1, 2] ms
        Map<String, String> token = Map.of("phase", "token");
        assertEquals(100, PrometheusText.windowCount(before, after, "tandem_gateway_overhead_seconds", token));
        // rank 50 of 100: 40 of the 90 into the (1, 2] ms bucket
        assertEquals(0.001 + 0.001 * 40 / 90, PrometheusText.windowQuantile(before, after, "tandem_gateway_overhead_seconds", token, 0.5), 1e-12);
        assertEquals(0.001 + 0.001 * 89 / 90, PrometheusText.windowQuantile(before, after, "tandem_gateway_overhead_seconds", token, 0.99), 1e-12);
        assertTrue(Double.isNaN(PrometheusText.windowQuantile(after, after, "tandem_gateway_overhead_seconds", token, 0.99)), "nothing recorded");
        assertEquals(0.0015, after.value("tandem_gateway_overhead_seconds", Map.of("phase", "token", "quantile", "0.99")));
    }
}
