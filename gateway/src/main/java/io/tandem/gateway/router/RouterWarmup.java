package io.tandem.gateway.router;

import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.ClusterContract;
import io.tandem.protocol.ProtocolVersion;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.kv.ApproxKvIndexer;
import io.tandem.registry.kv.KvIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Runs the routing decision's code (prompt hashing, prefix lookups, the mode's strategy, predictions, the ledger) on a
 * throwaway router with made-up workers and prompts, so the JIT has compiled it before the first real request.
 *
 * <p>Why: cold, a decision runs interpreted or at C1 for its first thousand or so calls and takes 20-250 µs instead of
 * about 7 µs (measured on the 2-core machine: p50 46 µs over calls 10-100, 18 µs over 300-1000, 7 µs after 1000).
 * A benchmark or cluster test of a few hundred requests never leaves that phase, and on cores the engine's compute
 * threads keep busy a section that long is often preempted: the preempted decisions wait out another thread's time
 * slice, which made {@code tandem_router_decision_seconds} p99 3-5 ms there even with nothing else running in the JVM
 * (16-44 ms in a cluster test of six JVMs on two cores). Compiled, the decision is short enough that preemption inside
 * it is rare: p99 27-62 µs over the same calls. Under the serving comparison's c=16 level on the loaded machine the
 * decision went from p50 0.31 ms / p99 13.8 ms cold to p50 0.022 ms / p99 0.69 ms with the warm-up. It costs 0.6-3 s
 * of one thread once at start on that loaded machine (less on a quiet one), in parallel with the rest of the start.
 */
public final class RouterWarmup {
    /**
     * Enough calls for C2 on the decision's methods (its tier-4 threshold is 5000 invocations, fewer with loops);
     * {@code -Dtandem.router.warmup=N} changes it (0: no warm-up, to measure a cold gateway).
     */
    public static final int DECISIONS = Integer.getInteger("tandem.router.warmup", 6_000);
    private static final int WORKERS = 4;
    private static final int PROMPT_TOKENS = 256;

    private RouterWarmup() {
    }

    /**
     * Makes {@code decisions} routing decisions (and the ends of their requests) in {@code mode} on a router of its own;
     * touches nothing a real router holds.
     *
     * @return the workers chosen, per worker index (every one of them was chosen at least once by the load-aware modes)
     */
    public static int[] run(RouterMode mode, KvCostModel costModel, int decisions) {
        ApproxKvIndexer predictions = new ApproxKvIndexer(new KvIndex(), 10_000, System::currentTimeMillis);
        InFlightLedger ledger = new InFlightLedger(System::currentTimeMillis);
        WorkerRouter router = new WorkerRouter(mode, costModel, new PrefixLookup(new KvIndex(), predictions),
                new SuspectWorkers(10_000, System::currentTimeMillis), ledger);
        ClusterContract contract = new ClusterContract("warm-up", BlockHasher.DEFAULT_BLOCK_SIZE, "f32", "warm-up", ProtocolVersion.CURRENT);
        List<WorkerRecord> workers = new ArrayList<>();
        for (int i = 0; i < WORKERS; i++) {
            workers.add(new WorkerRecord("warm-up-" + i, i == 0 ? WorkerRole.PREFILL : WorkerRole.DECODE, "warm-up", "warm-up",
                    "127.0.0.1", 0, 4096, WorkerLoad.IDLE, 0, 1, contract, 0));
        }
        BlockHasher hasher = new BlockHasher("warm-up", BlockHasher.DEFAULT_BLOCK_SIZE);
        SplittableRandom random = new SplittableRandom(12);
        int[] shared = random.ints(PROMPT_TOKENS / 2, 3, 32_000).toArray();
        int[] chosen = new int[WORKERS];
        for (int i = 0; i < decisions; i++) {
            int[] prompt = random.ints(PROMPT_TOKENS, 3, 32_000).toArray();
            if (i % 2 == 0) System.arraycopy(shared, 0, prompt, 0, shared.length); // half share a prefix: lookups hit
            RouteRequest request = new RouteRequest(hasher.hashBlocks(prompt), (prompt.length + BlockHasher.DEFAULT_BLOCK_SIZE - 1)
                    / BlockHasher.DEFAULT_BLOCK_SIZE);
            RouteChoice c = router.route("warm-up", workers, Set.of(), request).orElseThrow();
            router.routePrefill(workers, request);
            chosen[workers.indexOf(c.worker())]++;
            router.started(c.worker().workerId(), c.promptBlocks());
            if (i >= 16) router.ended(c.worker().workerId(), c.promptBlocks()); // about 16 in flight, as under load
        }
        return chosen;
    }
}
