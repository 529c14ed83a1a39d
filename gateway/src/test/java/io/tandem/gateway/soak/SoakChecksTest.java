package io.tandem.gateway.soak;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SoakChecksTest {
    private static final double MIB = 1024 * 1024;

    private static ProcessSample gateway(double heapMib, int threads) {
        return new ProcessSample(heapMib * MIB, threads, Map.of("vert.x-eventloop-thread-#", 4), null);
    }

    private static ProcessSample worker(double heapMib, int threads, int active, int free) {
        return new ProcessSample(heapMib * MIB, threads, Map.of("vert.x-eventloop-thread-#", 4), new ProcessSample.KvBlocks(active, free));
    }

    private static Tally.Counts counts(long failed) {
        return new Tally.Counts(9000, 480, 470, failed, 1_200_000, failed == 0 ? Map.of() : Map.of("HTTP 503", failed),
                failed == 0 ? List.of() : List.of("HTTP 503: queue wait expired"));
    }

    private static SoakResult result(Tally.Counts counts, ProcessSample gatewayEnd, ProcessSample workerEnd, int restartExit) {
        return new SoakResult(1000, 600, 60, counts, List.of(
                new SoakResult.ProcessRow("gateway", false, gateway(40, 76), gatewayEnd),
                new SoakResult.ProcessRow("worker-a", false, worker(30, 79, 0, 1024), workerEnd),
                new SoakResult.ProcessRow("worker-b", true, worker(30, 79, 0, 1024), worker(29, 77, 0, 1024))),
                Map.of("drained", 12L, "worker_left", 0L), List.of(new SoakResult.Restart("warm-up", "worker-b", 30, 0, 3.5, 6.0),
                new SoakResult.Restart("load", "worker-b", 300, restartExit, 8.5, 21.0)), 0);
    }

    private static SoakResult healthy() {
        return result(counts(0), gateway(41, 76), worker(31.5, 78, 0, 1024), 0);
    }

    private static List<String> failedNames(SoakResult r, int slack) {
        return SoakChecks.of(r, 0.10, slack).stream().filter(c -> !c.passed()).map(SoakChecks.Check::name).toList();
    }

    @Test
    void aCleanRunPasses() {
        List<SoakChecks.Check> checks = SoakChecks.of(healthy(), 0.10, 0);
        assertTrue(SoakChecks.allPassed(checks), checks.toString());
        String table = SoakReport.table(healthy(), checks);
        assertTrue(table.contains("| 9950 | 9000 | 480 | 470 | 0 |"), table);
        assertTrue(table.contains("| gateway | 40.0 MiB | 41.0 MiB | +2.5 % | 76 | 76 | - | - | - | - |"), table);
        assertTrue(table.contains("| worker-b (restarted) |"), table);
        assertTrue(table.contains("restart (load): worker-b got SIGTERM at 5 min 00 s, exited 0 after 8.5 s"), table);
        assertTrue(table.contains("| 12 | 12 | 0 |"), "migrations by reason, their total first: " + table);
        assertTrue(table.endsWith("soak: PASS\n"), table);
    }

    @Test
    void anyFailureTheClientDidNotCauseFailsTheRun() {
        SoakResult r = result(counts(1), gateway(41, 76), worker(31, 78, 0, 1024), 0);
        assertEquals(List.of("no failures (deliberate disconnects and cancels excluded)"), failedNames(r, 0));
        String table = SoakReport.table(r, SoakChecks.of(r, 0.10, 0));
        assertTrue(table.contains("HTTP 503: queue wait expired") && table.endsWith("soak: FAIL\n"), table);
    }

    @Test
    void heapBeyondTheToleranceEitherWayFails() {
        assertEquals(List.of("heap after GC of gateway within ±10 %"), failedNames(result(counts(0), gateway(44.5, 76), worker(31, 78, 0, 1024), 0), 0));
        assertEquals(List.of("heap after GC of worker-a within ±10 %"), failedNames(result(counts(0), gateway(40, 76), worker(26.5, 78, 0, 1024), 0), 0));
    }

    @Test
    void moreThreadsAtTheEndFailUnlessWithinTheSlack() {
        SoakResult r = result(counts(0), gateway(40, 78), worker(31, 78, 0, 1024), 0);
        assertEquals(List.of("live threads of gateway did not grow"), failedNames(r, 0));
        assertEquals(List.of(), failedNames(r, 2));
    }

    @Test
    void aRestartedWorkersNewJvmMayDifferByAFewPoolThreadsButNotMore() {
        SoakResult few = result(counts(0), gateway(40, 76), worker(31, 78, 0, 1024), 0);
        SoakResult r = new SoakResult(few.streams(), few.loadSeconds(), few.warmupSeconds(), few.counts(), List.of(
                few.processes().get(0), few.processes().get(1),
                new SoakResult.ProcessRow("worker-b", true, worker(30, 79, 0, 1024), worker(30, 79 + SoakChecks.NEW_JVM_THREAD_SLACK, 0, 1024))),
                few.migrations(), few.restarts(), 0);
        assertEquals(List.of(), failedNames(r, 0));
        SoakResult leak = new SoakResult(few.streams(), few.loadSeconds(), few.warmupSeconds(), few.counts(), List.of(
                few.processes().get(0), few.processes().get(1),
                new SoakResult.ProcessRow("worker-b", true, worker(30, 79, 0, 1024), worker(30, 80 + SoakChecks.NEW_JVM_THREAD_SLACK, 0, 1024))),
                few.migrations(), few.restarts(), 0);
        assertEquals(List.of("live threads of worker-b's new JVM within +8 of the old one's"), failedNames(leak, 0));
    }

    @Test
    void kvBlocksNotBackToStartFail() {
        assertEquals(List.of("KV blocks of worker-a back to start"), failedNames(result(counts(0), gateway(40, 76), worker(31, 78, 3, 1021), 0), 0));
    }

    @Test
    void aRestartedWorkerThatDidNotExitZeroFails() {
        assertEquals(List.of("worker-b drained and exited 0 on SIGTERM (load)"), failedNames(result(counts(0), gateway(40, 76), worker(31, 78, 0, 1024), 143), 0));
    }

    @Test
    void theJsonLineCarriesTheVerdictAndTheNumbers() {
        SoakResult r = healthy();
        JsonObject json = new JsonObject(SoakReport.json(r, SoakChecks.of(r, 0.10, 0)));
        assertTrue(json.getBoolean("passed"));
        assertEquals(9950, json.getLong("requests"));
        assertEquals(12, json.getJsonObject("migrations").getLong("drained"));
        assertEquals(2, json.getJsonArray("restarts").size());
        assertEquals("load", json.getJsonArray("restarts").getJsonObject(1).getString("phase"));
        assertEquals(0, json.getJsonArray("restarts").getJsonObject(1).getInteger("exitCode"));
        assertEquals(3, json.getJsonArray("processes").size());
        assertEquals(1024, json.getJsonArray("processes").getJsonObject(1).getJsonObject("end").getInteger("freeBlocks"));
        assertFalse(json.getJsonArray("checks").isEmpty());
    }
}
