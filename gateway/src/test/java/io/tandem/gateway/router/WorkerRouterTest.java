package io.tandem.gateway.router;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class WorkerRouterTest {

    private static WorkerRecord worker(String id, WorkerRole role, int running) {
        return new WorkerRecord(id, role, "m", "node", "127.0.0.1", 0, 256, new WorkerLoad(running, 0, 0, 100), 0, 1,
                ContractFilterTest.contract(16), 0);
    }

    @Test
    void roundRobinCyclesOverGenerateCapableWorkers() {
        WorkerRouter r = new WorkerRouter(RouterMode.ROUND_ROBIN);
        List<WorkerRecord> ws = List.of(worker("c", WorkerRole.DECODE, 0), worker("p", WorkerRole.PREFILL, 0),
                worker("a", WorkerRole.BOTH, 0));
        List<String> picks = new ArrayList<>();
        for (int i = 0; i < 4; i++) picks.add(r.choose("m", ws, Set.of()).orElseThrow().workerId());
        assertEquals(List.of("a", "c", "a", "c"), picks);
    }

    @Test
    void nothingUsable() {
        WorkerRouter r = new WorkerRouter(RouterMode.LEAST_LOADED);
        assertTrue(r.choose("m", List.of(worker("p", WorkerRole.PREFILL, 0)), Set.of()).isEmpty());
        assertTrue(r.choose("m", List.of(worker("a", WorkerRole.DECODE, 0)), Set.of("a")).isEmpty());
        assertTrue(r.choose("m", List.of(), Set.of()).isEmpty());
    }

    @Test
    void leastLoadedUsesReportedAndOwnInFlight() {
        WorkerRouter r = new WorkerRouter(RouterMode.LEAST_LOADED);
        List<WorkerRecord> ws = List.of(worker("a", WorkerRole.DECODE, 5), worker("b", WorkerRole.DECODE, 1));
        assertEquals("b", r.choose("m", ws, Set.of()).orElseThrow().workerId());
        for (int i = 0; i < 6; i++) r.started("b", 0);
        assertEquals("a", r.choose("m", ws, Set.of()).orElseThrow().workerId());
        for (int i = 0; i < 6; i++) r.ended("b", 0);
        assertEquals(0, r.inFlight("b"));
        assertEquals("b", r.choose("m", ws, Set.of()).orElseThrow().workerId());
    }

    @Test
    void leastLoadedSpreadsTies() {
        WorkerRouter r = new WorkerRouter(RouterMode.LEAST_LOADED);
        List<WorkerRecord> ws = List.of(worker("a", WorkerRole.DECODE, 0), worker("b", WorkerRole.DECODE, 0));
        String first = r.choose("m", ws, Set.of()).orElseThrow().workerId();
        String second = r.choose("m", ws, Set.of()).orElseThrow().workerId();
        assertNotEquals(first, second);
    }

    @Test
    void suspectsAreAvoidedUntilTheyExpireOrNothingElseIsLeft() {
        AtomicLong now = new AtomicLong(1000);
        WorkerRouter r = new WorkerRouter(RouterMode.ROUND_ROBIN, 500, now::get);
        List<WorkerRecord> ws = List.of(worker("a", WorkerRole.DECODE, 0), worker("b", WorkerRole.DECODE, 0));
        r.suspect("a");
        for (int i = 0; i < 3; i++) assertEquals("b", r.choose("m", ws, Set.of()).orElseThrow().workerId());
        assertEquals("a", r.choose("m", ws, Set.of("b")).orElseThrow().workerId(), "a suspect beats nothing");
        now.addAndGet(501);
        assertFalse(r.isSuspect("a"));
    }

    @Test
    void thePrefillWorkerIsTheOneHoldingThePromptPrefix() {
        WorkerRouter router = new WorkerRouter(RouterMode.KV);
        long[] hashes = {11, 12, 13, 14};
        router.index().apply("p2", new io.tandem.protocol.kv.KvEvent.BlocksStored(new long[] {11, 12, 13}, 0));
        List<WorkerRecord> live = List.of(worker("d", WorkerRole.DECODE, 0), worker("p1", WorkerRole.PREFILL, 0),
                worker("p2", WorkerRole.PREFILL, 0));
        RouteRequest prompt = new RouteRequest(hashes, 4);
        assertEquals("p2", router.routePrefill(live, prompt).orElseThrow().workerId(), "the prefill worker with the prefix");
        for (int i = 0; i < 20; i++) {
            assertEquals(WorkerRole.PREFILL, router.routePrefill(live, new RouteRequest(new long[] {99}, 1)).orElseThrow().role(),
                    "no prefix anywhere: one of the equally idle prefill workers, never the decode worker");
        }
        router.suspect("p2");
        assertEquals("p1", router.routePrefill(live, prompt).orElseThrow().workerId(), "a suspect worker is skipped");
        assertTrue(router.routePrefill(List.of(worker("d", WorkerRole.DECODE, 0)), prompt).isEmpty(), "no prefill pool");
    }

    @Test
    void aDrainingWorkerIsNeverChosen() {
        WorkerRecord draining = worker("a", WorkerRole.DECODE, 0);
        draining = draining.withLoad(draining.load().asDraining(), 0);
        for (RouterMode mode : RouterMode.values()) {
            WorkerRouter r = new WorkerRouter(mode);
            List<WorkerRecord> ws = List.of(draining, worker("b", WorkerRole.DECODE, 50));
            for (int i = 0; i < 20; i++) assertEquals("b", r.choose("m", ws, Set.of()).orElseThrow().workerId(), mode.flag());
            assertTrue(r.choose("m", List.of(draining), Set.of()).isEmpty(), mode + ": not even when nothing else is left");
        }
    }

    @Test
    void aDrainingPrefillWorkerIsNeverChosen() {
        WorkerRouter router = new WorkerRouter(RouterMode.KV);
        router.index().apply("p1", new io.tandem.protocol.kv.KvEvent.BlocksStored(new long[] {11, 12}, 0));
        WorkerRecord p1 = worker("p1", WorkerRole.PREFILL, 0);
        p1 = p1.withLoad(p1.load().asDraining(), 0);
        RouteRequest prompt = new RouteRequest(new long[] {11, 12}, 3);
        assertEquals("p2", router.routePrefill(List.of(p1, worker("p2", WorkerRole.PREFILL, 0)), prompt).orElseThrow().workerId(),
                "the prefix holder drains: the other prefill worker");
        assertTrue(router.routePrefill(List.of(p1), prompt).isEmpty());
    }

    @Test
    void aRoutedPromptIsPredictedCachedWhereItWent() {
        io.tandem.registry.kv.ApproxKvIndexer approx = new io.tandem.registry.kv.ApproxKvIndexer(
                new io.tandem.registry.kv.KvIndex(), 10_000, () -> 0);
        WorkerRouter r = new WorkerRouter(RouterMode.KV, KvCostModel.DEFAULT,
                new PrefixLookup(new io.tandem.registry.kv.KvIndex(), approx), new SuspectWorkers(1_000, () -> 0),
                new InFlightLedger(() -> 0));
        List<WorkerRecord> ws = List.of(worker("a", WorkerRole.DECODE, 0), worker("b", WorkerRole.DECODE, 0));
        RouteChoice first = r.route("m", ws, Set.of(), new RouteRequest(new long[] {1, 2, 3}, 4)).orElseThrow();
        assertEquals(0, first.cachedBlocks());
        RouteChoice next = r.route("m", ws, Set.of(), new RouteRequest(new long[] {1, 2, 3, 4, 5}, 6)).orElseThrow();
        assertEquals(first.worker(), next.worker(), "the next turn follows the prediction, before any KV event");
        assertEquals(3, next.cachedBlocks());
    }

    @Test
    void aStaleLoadReportDoesNotPushTheNextTurnOffItsPrefix() {
        // the case KvRoutingClusterIT hit: a's report, published after this gateway saw the previous turns on it end,
        // still counts them (30 blocks, 3 running); a holds 9 of the next turn's 11 blocks, b nothing
        WorkerRouter r = new WorkerRouter(RouterMode.KV);
        long[] hashes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        r.index().apply("a", new io.tandem.protocol.kv.KvEvent.BlocksStored(java.util.Arrays.copyOf(hashes, 9), 0));
        List<WorkerRecord> ws = List.of(Workers.decode("a", 3, 30), Workers.decode("b", 0, 0));
        r.started("a", 9);
        r.ended("a", 9);
        for (int i = 0; i < 20; i++) {
            assertEquals("a", r.route("m", ws, Set.of(), new RouteRequest(hashes, 11)).orElseThrow().worker().workerId());
        }
        for (int i = 0; i < 3; i++) r.started("a", 9); // what this gateway knows is running there does count
        assertEquals("b", r.route("m", ws, Set.of(), new RouteRequest(hashes, 11)).orElseThrow().worker().workerId());
    }
}
