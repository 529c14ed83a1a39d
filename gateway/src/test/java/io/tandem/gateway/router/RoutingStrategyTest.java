package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.random.RandomGenerator;

import static io.tandem.gateway.router.Workers.decode;
import static org.junit.jupiter.api.Assertions.*;

class RoutingStrategyTest {
    private static final RandomGenerator RANDOM = RandomGenerator.of("L64X128MixRandom");
    private static final RouteRequest PROMPT = new RouteRequest(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 11);

    private static String pick(RoutingStrategy s, String model, List<WorkerRecord> pool, Map<String, Integer> cached) {
        return s.pick(model, pool, PROMPT, cached).workerId();
    }

    @Test
    void eachModeHasItsStrategy() {
        InFlightLedger ledger = new InFlightLedger(() -> 0);
        assertInstanceOf(KvStrategy.class, RoutingStrategy.of(RouterMode.KV, KvCostModel.DEFAULT, ledger, RANDOM));
        assertInstanceOf(RoundRobinStrategy.class, RoutingStrategy.of(RouterMode.ROUND_ROBIN, KvCostModel.DEFAULT, ledger, RANDOM));
        assertInstanceOf(RandomStrategy.class, RoutingStrategy.of(RouterMode.RANDOM, KvCostModel.DEFAULT, ledger, RANDOM));
        assertInstanceOf(LeastLoadedStrategy.class, RoutingStrategy.of(RouterMode.LEAST_LOADED, KvCostModel.DEFAULT, ledger, RANDOM));
    }

    @Test
    void roundRobinRotatesPerModel() {
        RoutingStrategy s = new RoundRobinStrategy(new Rotation());
        List<WorkerRecord> pool = List.of(decode("a"), decode("b"), decode("c"));
        List<String> picks = new ArrayList<>();
        for (int i = 0; i < 4; i++) picks.add(pick(s, "m", pool, Map.of()));
        assertEquals(List.of("a", "b", "c", "a"), picks);
        assertEquals("a", pick(s, "other", pool, Map.of()), "another model has its own rotation");
    }

    @Test
    void randomReachesEveryWorker() {
        RoutingStrategy s = new RandomStrategy(RANDOM);
        List<WorkerRecord> pool = List.of(decode("a"), decode("b"), decode("c"));
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) seen.add(pick(s, "m", pool, Map.of()));
        assertEquals(Set.of("a", "b", "c"), seen);
    }

    @Test
    void leastLoadedTakesTheLargerOfReportAndOwnRequests() {
        InFlightLedger ledger = new InFlightLedger(() -> 0);
        RoutingStrategy s = new LeastLoadedStrategy(ledger, new Rotation());
        List<WorkerRecord> pool = List.of(decode("a", 5, 0), decode("b", 1, 0));
        assertEquals("b", pick(s, "m", pool, Map.of()));
        for (int i = 0; i < 6; i++) ledger.started("b", 0);
        assertEquals("a", pick(s, "m", pool, Map.of()), "b's report is behind what this gateway sent it");
    }

    @Test
    void kvWeighsPrefillAgainstLoad() {
        InFlightLedger ledger = new InFlightLedger(() -> 0);
        RoutingStrategy s = new KvStrategy(KvCostModel.DEFAULT, w -> ledger.blocks(w.workerId()), RANDOM);
        List<WorkerRecord> pool = List.of(decode("a"), decode("b"));
        Map<String, Integer> cached = Map.of("a", 9);
        assertEquals("a", pick(s, "m", pool, cached), "the prefix holder");
        ledger.started("a", 25);
        assertEquals("a", pick(s, "m", pool, cached), "9 blocks of prefill saved outweigh 25 active blocks");
        ledger.peer("g2", Map.of("a", 1L));
        assertEquals("b", pick(s, "m", pool, cached), "but not 26 (a peer gateway's included)");
    }
}
