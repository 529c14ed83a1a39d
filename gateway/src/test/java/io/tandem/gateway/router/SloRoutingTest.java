package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The router with a TTFT objective: the mode's choice stands unless it misses while another worker meets it. */
class SloRoutingTest {
    private static final List<WorkerRecord> WORKERS = List.of(Workers.decode("a"), Workers.decode("b"), Workers.decode("c"));

    private static SloRouting predicting(Map<String, Double> ms, double budget, boolean refuse) {
        return new SloRouting((w, cached) -> ms.containsKey(w.workerId()) ? OptionalDouble.of(ms.get(w.workerId()))
                : OptionalDouble.empty(), budget, refuse);
    }

    private static RouteChoice route(WorkerRouter r, SloRouting slo) {
        return r.route("m", WORKERS, Set.of(), RouteRequest.NONE, slo).orElseThrow();
    }

    @Test
    void theModesChoiceStandsWhileItMeetsTheObjective() {
        WorkerRouter r = new WorkerRouter(RouterMode.ROUND_ROBIN);
        RouteChoice c = route(r, predicting(Map.of("a", 80.0, "b", 10.0, "c", 50.0), 100, false));
        assertEquals("a", c.worker().workerId(), "round robin's first pick meets 100 ms");
        assertEquals(80, c.predictedTtftMs());
        assertEquals(10, c.bestTtftMs());
        assertFalse(c.unattainable());
    }

    @Test
    void aChoiceThatMissesGivesWayToTheFastest() {
        WorkerRouter r = new WorkerRouter(RouterMode.ROUND_ROBIN);
        RouteChoice c = route(r, predicting(Map.of("a", 300.0, "b", 90.0, "c", 60.0), 100, false));
        assertEquals("c", c.worker().workerId());
        assertEquals(60, c.predictedTtftMs());
    }

    @Test
    void whenNoWorkerCanMeetItTheModesChoiceStandsOrTheRequestIsRefused() {
        Map<String, Double> slow = Map.of("a", 300.0, "b", 200.0, "c", 250.0);
        RouteChoice kept = route(new WorkerRouter(RouterMode.ROUND_ROBIN), predicting(slow, 100, false));
        assertEquals("a", kept.worker().workerId());
        assertFalse(kept.unattainable());
        RouteChoice refused = route(new WorkerRouter(RouterMode.ROUND_ROBIN), predicting(slow, 100, true));
        assertTrue(refused.unattainable());
        assertEquals(200, refused.bestTtftMs());
        RouteChoice overdue = route(new WorkerRouter(RouterMode.ROUND_ROBIN), predicting(Map.of("a", 1.0), -5, true));
        assertTrue(overdue.unattainable(), "a request already past its objective cannot meet it");
    }

    @Test
    void unmeasuredWorkersAreNeitherPreferredNorRefused() {
        RouteChoice c = route(new WorkerRouter(RouterMode.ROUND_ROBIN), predicting(Map.of(), 100, true));
        assertEquals("a", c.worker().workerId());
        assertFalse(c.unattainable());
        assertTrue(Double.isNaN(c.bestTtftMs()));
        assertTrue(Double.isNaN(route(new WorkerRouter(RouterMode.ROUND_ROBIN), SloRouting.NONE).predictedTtftMs()));
    }
}
