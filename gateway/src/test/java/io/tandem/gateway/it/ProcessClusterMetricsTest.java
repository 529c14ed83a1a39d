package io.tandem.gateway.it;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How the process ITs read a worker's {@code /metrics}: every sample of a name and labels, in every number form. */
class ProcessClusterMetricsTest {
    private static final ProcessCluster.Sample BYTES = ProcessCluster.Sample.of("tandem_transfer_bytes_total");

    @Test
    void countersPastTenMillionAreReadWhole() {
        // Double.toString switches to the exponent form at 10^7: PrefillKillIT once read 1.6613376E7 as 1.66
        String page = """
                # TYPE tandem_transfer_bytes_total counter
                tandem_transfer_bytes_total{backend="shm",worker="prefill-1"} 1.6613376E7
                tandem_transfer_bytes_total{backend="tcp",worker="prefill-1"} 8945664.0
                """;
        assertEquals(16_613_376 + 8_945_664, ProcessCluster.sum(BYTES, page));
    }

    @Test
    void smallNegativeAndFractionalValuesAreRead() {
        String page = """
                tandem_transfer_bytes_total{worker="a"} 0.0
                tandem_transfer_bytes_total{worker="b"} 2.5E-4
                tandem_transfer_bytes_total{worker="c"} -3.0
                tandem_transfer_bytes_total_created{worker="a"} 1.7E9
                """;
        assertEquals(0.00025 - 3.0, ProcessCluster.sum(BYTES, page), 1e-12);
    }

    @Test
    void labelsSelectTheSamplesAndNoneReadsZero() {
        ProcessCluster.Sample remote = ProcessCluster.Sample.of("tandem_prefills_total", "where", "remote");
        String page = """
                tandem_prefills_total{where="local",worker="d"} 4.0
                tandem_prefills_total{where="remote",worker="d"} 1.2E7
                """;
        assertEquals(1.2e7, ProcessCluster.sum(remote, page));
        assertEquals(0, ProcessCluster.sum(ProcessCluster.Sample.of("tandem_prefill_fallbacks_total"), page));
    }

    @Test
    void servedSumsTheFinishedOutcomesOnly() {
        String page = """
                tandem_worker_requests_total{outcome="finished",worker="w"} 3.0
                tandem_worker_requests_total{outcome="length",worker="w"} 1.2E7
                tandem_worker_requests_total{outcome="failed",worker="w"} 5.0
                tandem_worker_requests_total{outcome="cancelled",worker="w"} 7.0
                """;
        assertEquals(1.2e7 + 3, ProcessCluster.served(page));
        assertEquals(0, ProcessCluster.served("tandem_worker_streams{worker=\"w\"} 2.0\n"));
    }
}
