package io.tandem.loadtests.serving;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Goodput: the requests of a level that met both limits, per second of its window. */
class SloTest {

    private static LevelResult level(int requests, List<RequestTiming> timings) {
        Summary none = new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        return new LevelResult(8, 40, 100, requests, 0, 0, none, none, List.of(), null, timings);
    }

    @Test
    void aRequestMeetsTheSloOnlyWithinBothLimitsTheirEdgesIncluded() {
        Slo slo = new Slo(1000, 100);
        assertTrue(slo.met(new RequestTiming(1000, 100)));
        assertFalse(slo.met(new RequestTiming(1000.5, 20)), "a late first token");
        assertFalse(slo.met(new RequestTiming(200, 100.5)), "a slow stream");
    }

    @Test
    void goodputCountsTheRequestsThatMetItOverTheWindowAndAttainmentOverAllRequests() {
        // 5 requests started: 4 completed (one failed or was cut), 3 of them within the SLO
        LevelResult l = level(5, List.of(new RequestTiming(300, 40), new RequestTiming(900, 99),
                new RequestTiming(1200, 40), new RequestTiming(500, 60)));
        assertEquals(3 / 40.0, Slo.CHAT.goodput(l), 1e-12);
        assertEquals(0.6, Slo.CHAT.attainment(l), 1e-12);
        assertEquals(1 / 40.0, new Slo(400, 50).goodput(l), 1e-12, "a tighter SLO");
    }

    @Test
    void resultsWithoutTimingsHaveNoGoodput() {
        assertTrue(Double.isNaN(Slo.CHAT.goodput(level(5, null))));
        assertTrue(Double.isNaN(Slo.CHAT.attainment(level(5, null))));
    }

    @Test
    void limitsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new Slo(0, 100));
        assertThrows(IllegalArgumentException.class, () -> new Slo(1000, Double.NaN));
    }
}
