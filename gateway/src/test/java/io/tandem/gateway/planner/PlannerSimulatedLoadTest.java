package io.tandem.gateway.planner;

import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.sim.SimConfig;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.gateway.slo.SloTargets;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerRole;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 14's planner test: a prefill-heavy load (long prompts, few output tokens), then a decode-heavy one (short
 * prompts, many output tokens) through the simulated engine (the CPU engine's scheduler, modelled step times, real
 * time), with the planner fed as the gateway feeds it: one {@link ArrivalWindow#record} per finished request (its
 * usage) and the engine's own load reports (measured prefill rate and decode step time) through a
 * {@link PoolObserver}. The recommendation must move the right way: towards prefill in the first phase, towards decode
 * in the second. The window is 2 s (the gateway's is 60 s) so that each phase of 2.5 s fills it alone.
 */
class PlannerSimulatedLoadTest {
    private static final EngineInfo INFO = new EngineInfo("planner-sim", 1000, 4096, 16);
    private static final Duration WINDOW = Duration.ofSeconds(2);
    private static final long PHASE_MILLIS = 2_500;
    private static final SloTargets SLO = new SloTargets(250, 8);

    @Test
    void prefillHeavyThenDecodeHeavyLoadMovesTheRecommendationEachWay() throws Exception {
        // 50 µs per prompt token (20 000 tokens/s), decode steps of 4 ms + 0.25 ms per stream
        SimConfig config = new SimConfig(50_000, 4_000_000, 250_000, 0, 32, 64, 0);
        SimulatedEngine engine = new SimulatedEngine(INFO, id -> id >= 3, new int[] {2}, config);
        ArrivalWindow window = new ArrivalWindow(WINDOW, 20, System::currentTimeMillis);
        PoolObserver pool = new PoolObserver(WINDOW.toMillis());
        Planner planner = new Planner(PlannerSettings.DEFAULTS);
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        try {
            PlannerResult prefillHeavy = phase(engine, clients, window, pool, planner, 4, 1500, 4);
            PlannerResult decodeHeavy = phase(engine, clients, window, pool, planner, 32, 48, 96);
            System.out.printf("prefill-heavy: %s%ndecode-heavy: %s%n", summary(prefillHeavy), summary(decodeHeavy));

            assertEquals(1500, prefillHeavy.mix().meanUncachedPromptTokens(), 1e-9, "the window held only phase 1");
            assertEquals(96, decodeHeavy.mix().meanOutputTokens(), 1e-9, "phase 1 left the window");
            assertTrue(prefillHeavy.pool().prefillTokensPerSecond() > 0, "the engine measured its prefill rate");
            assertTrue(decodeHeavy.pool().decodeStep().measured(), "the engine measured its decode steps");

            assertTrue(prefillHeavy.disaggregate(), prefillHeavy.reason());
            assertTrue(prefillHeavy.prefillWorkers() >= 2, "long prompts at a 250 ms TTFT need a second prefill worker: "
                    + summary(prefillHeavy));
            assertTrue(prefillHeavy.prefillWorkers() > prefillHeavy.decodeWorkers(), summary(prefillHeavy));
            assertFalse(decodeHeavy.disaggregate(), decodeHeavy.reason());
            assertTrue(decodeHeavy.reason().startsWith("short uncached prompts"), decodeHeavy.reason());
            // 32 streams at a 12 ms step: an 8 ms TPOT holds 16 of them (4 + 0.25 × 16 = 8 ms): more than one worker
            assertTrue(decodeHeavy.decodeWorkers() >= 2, "96 tokens a request at an 8 ms TPOT: " + summary(decodeHeavy));

            // the shares, and the demands behind them, move apart
            assertTrue(prefillHeavy.prefillShare() > decodeHeavy.prefillShare());
            assertTrue(decodeHeavy.decodeWorkers() > prefillHeavy.decodeWorkers());
            double ratioPrefillHeavy = prefillHeavy.sizing().prefillWorkersExact() / prefillHeavy.sizing().decodeWorkersExact();
            double ratioDecodeHeavy = decodeHeavy.sizing().prefillWorkersExact() / decodeHeavy.sizing().decodeWorkersExact();
            assertTrue(ratioPrefillHeavy > 10 * ratioDecodeHeavy, "prefill : decode demand " + ratioPrefillHeavy
                    + " then " + ratioDecodeHeavy);
        } finally {
            clients.shutdownNow();
            engine.close();
            assertTrue(clients.awaitTermination(10, TimeUnit.SECONDS), "the clients stopped");
        }
    }

    /**
     * {@code streams} closed-loop clients send unique prompts of {@code promptTokens} for {@link #PHASE_MILLIS}; the
     * engine's load is reported every 20 ms (a heartbeat). Returns the plan at the end of the phase.
     */
    private static PlannerResult phase(SimulatedEngine engine, ExecutorService clients, ArrivalWindow window,
                                       PoolObserver pool, Planner planner, int streams, int promptTokens,
                                       int outputTokens) throws Exception {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(PHASE_MILLIS);
        AtomicInteger ids = new AtomicInteger();
        AtomicReference<PoolRates> rates = new AtomicReference<>(PoolRates.NONE);
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < streams; c++) {
            Random random = new Random(promptTokens * 1000L + c);
            running.add(clients.submit(() -> {
                while (System.nanoTime() < end) {
                    int[] prompt = random.ints(promptTokens, 3, 1000).toArray(); // unique: no prefix hits
                    CompletableFuture<Usage> done = new CompletableFuture<>();
                    engine.submit(new EngineRequest("r" + promptTokens + "-" + ids.incrementAndGet(), prompt,
                            new SamplingParams(outputTokens, 1f, 1f, 0, 0f, 1L, 0f, 0f, new int[0], true, -1), null),
                            new Finished(done));
                    Usage usage = done.get(30, TimeUnit.SECONDS);
                    window.record(usage.promptTokens(), usage.cachedTokens(), usage.completionTokens());
                }
                return null;
            }));
        }
        while (System.nanoTime() < end) { // the heartbeat: the engine's load report, as the registry carries it
            long now = System.currentTimeMillis();
            rates.set(pool.observe(now, List.of(new WorkerReport("sim", WorkerRole.BOTH, engine.load(), now, 16))));
            Thread.sleep(20); // a report interval, not synchronisation
        }
        for (Future<?> f : running) f.get(30, TimeUnit.SECONDS);
        return planner.plan(window.mix(), rates.get(), SLO);
    }

    private static String summary(PlannerResult r) {
        return String.format(java.util.Locale.ROOT,
                "%dP %dD (disaggregate %s) λ %.1f/s U %.0f O %.0f | P %.0f tok/s, step %s | prefill %.2f decode %.2f"
                        + " (batch %d at %.1f ms) | %s %s",
                r.prefillWorkers(), r.decodeWorkers(), r.disaggregate(), r.mix().requestsPerSecond(),
                r.mix().meanUncachedPromptTokens(), r.mix().meanOutputTokens(), r.pool().prefillTokensPerSecond(),
                r.pool().decodeStep(), r.sizing().prefillWorkersExact(), r.sizing().decodeWorkersExact(),
                r.sizing().decodeBatch(), r.sizing().decodeStepMs(), r.reason(), r.sizing().notes());
    }

    private record Finished(CompletableFuture<Usage> done) implements TokenSink {
        @Override
        public void onToken(int token, TokenLogprobs logprobs) {}

        @Override
        public void onFinished(FinishReason reason, Usage usage) {
            done.complete(usage);
        }

        @Override
        public void onFailed(ErrorCode code, String message) {
            done.completeExceptionally(new AssertionError("failed: " + code + " " + message));
        }
    }
}
