package io.tandem.engine.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench table: batched decode against batch 1 when both ran, and no NaN when batch 1 did not. */
class BenchReportTest {

    private static BenchReport report(List<BenchResult> results) {
        return new BenchReport("llama 124.7M Q4_0", 70_000_000L, 124_670_000L, "CPU vector-512", 2, 40, 67_000_000L, 0,
                results);
    }

    @Test
    void batchedDecodeIsComparedWithBatchOne() {
        String table = report(List.of(new BenchResult("tg64", 1, 500, 5), new BenchResult("tg64@b16", 16, 1500, 10))).table();
        assertTrue(table.contains("| tg64@b16 | 16 | 1500.00 ± 10.00 | 93.75 | 3.00x |"), table);
    }

    @Test
    void withoutBatchOneTheComparisonIsADash() {
        String table = report(List.of(new BenchResult("pp16", 1, 900, 5), new BenchResult("tg64@b16", 16, 1500, 10))).table();
        assertTrue(table.contains("| tg64@b16 | 16 | 1500.00 ± 10.00 | 93.75 | — |"), table);
        assertFalse(table.contains("NaN"), table);
    }

    @Test
    void depthRowsStayInTheFirstTableAndAreNotTheBatchOneReference() {
        String table = report(List.of(new BenchResult("tg64 @ d256", 1, 400, 4), new BenchResult("tg64", 1, 500, 5),
                new BenchResult("tg64@b16", 16, 1500, 10))).table();
        assertTrue(table.contains("| CPU vector-512 | 2 | tg64 @ d256 | 400.00 ± 4.00 |"), table);
        assertTrue(table.contains("| tg64@b16 | 16 | 1500.00 ± 10.00 | 93.75 | 3.00x |"), table);
        assertFalse(table.contains("| tg64 @ d256 | 1 |"), table);
    }

    @Test
    void batchedDecodeAtADepthIsComparedWithTgAtThatDepth() {
        String table = report(List.of(new BenchResult("tg64", 1, 500, 5), new BenchResult("tg64@b16", 16, 1500, 10),
                new BenchResult("tg64 @ d256", 1, 400, 4), new BenchResult("tg64@b16 @ d256", 16, 1000, 8))).table();
        assertTrue(table.contains("| tg64@b16 | 16 | 1500.00 ± 10.00 | 93.75 | 3.00x |"), table);
        assertTrue(table.contains("| tg64@b16 @ d256 | 16 | 1000.00 ± 8.00 | 62.50 | 2.50x |"), table);
    }
}
