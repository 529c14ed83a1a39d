package io.tandem.gateway.slo;

import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.sim.SimConfig;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerLoad;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The predictor against the simulated engine (the CPU engine's scheduler, modelled step times) on a steady open-loop
 * workload: each request's TTFT is predicted at its arrival, as the gateway does it — from the engine's own load report
 * (its measured rates) and this gateway's {@link PrefillQueue} of prompts sent and not answered — and compared with
 * the TTFT it got. Real time: the steps sleep, and the engine learns its rates from the steps it actually took. The
 * modelled times are long enough (tens of ms per step) that a busy machine's late wake-ups stay small beside them.
 * What is left is the prompts that join a step after a request's prediction (expected from the arrival rate, not
 * known). Measured: see docs/SLO.md; a predictor that ignores the queue fails this test (p90 2.8 when tried).
 */
class TtftPredictionAccuracyTest {
    private static final EngineInfo INFO = new EngineInfo("slo-sim", 1000, 4096, 16);

    @Test
    void predictionWithinThirtyPercentAtP90OnASteadyWorkload() throws Exception {
        assertTrue(p90Error(false) <= 0.30);
    }

    /**
     * Poisson arrivals: bursts whose later prompts join the step of earlier ones after those were predicted — the
     * expected share is in the prediction, the variance is not. A looser bound, that still fails a queue-blind predictor.
     */
    @Test
    void predictionWithinSixtyPercentAtP90UnderPoissonArrivals() throws Exception {
        assertTrue(p90Error(true) <= 0.60);
    }

    /** The p90 of |actual / predicted − 1| over 100 requests arriving evenly or as a Poisson process. */
    private static double p90Error(boolean poisson) throws Exception {
        // 40 µs per prompt token (a 600-token prompt: 24 ms), 8 ms decode steps + 0.2 ms per stream
        SimConfig config = new SimConfig(40_000, 8_000_000, 200_000, 0, 32, 64, 0);
        SimulatedEngine engine = new SimulatedEngine(INFO, id -> id >= 3, new int[] {2}, config);
        try {
            TtftPredictor predictor = new TtftPredictor(TtftPredictor.DEFAULT_CHUNK_TOKENS);
            int warmup = 10, measured = 100;
            // 45 ms apart on average: ~3 streams of 12 tokens at once, steady, not saturated
            java.util.Random random = new java.util.Random(14);
            long meanGapNanos = TimeUnit.MILLISECONDS.toNanos(45), at = 0;
            List<double[]> pairs = new ArrayList<>(); // predicted, future index
            List<CompletableFuture<Double>> ttfts = new ArrayList<>();
            List<WorkerLoad> loads = new ArrayList<>();
            PrefillQueue queue = new PrefillQueue(predictor);
            // first tokens come on the engine thread; the queue is the dispatcher's (one thread), fed in arrival order
            java.util.concurrent.ConcurrentLinkedQueue<Object[]> firstTokens = new java.util.concurrent.ConcurrentLinkedQueue<>();
            long start = System.nanoTime();
            for (int i = 0; i < warmup + measured; i++) {
                at += poisson ? (long) (-Math.log(1 - random.nextDouble()) * meanGapNanos) : meanGapNanos;
                LockSupport.parkNanos(start + at - System.nanoTime()); // open-loop pacing, not synchronisation
                int promptLength = 400 + (i * 37) % 400;
                int[] prompt = IntStream.range(0, promptLength).map(t -> 3 + (t * 31 + 7 * promptLength) % 990).toArray();
                for (Object[] e; (e = firstTokens.poll()) != null; ) queue.done((String) e[0], (Long) e[1]);
                WorkerLoad load = engine.load();
                String key = "r" + i;
                long submitted = System.nanoTime();
                double predicted = queue.sent(key, load, promptLength, submitted).orElse(Double.NaN);
                CompletableFuture<Double> ttft = new CompletableFuture<>();
                ttft.whenComplete((v, e) -> firstTokens.add(new Object[] {key, System.nanoTime()}));
                engine.submit(new EngineRequest(key, prompt, new SamplingParams(12, 1f, 1f, 0, 0f, 1L, 0f, 0f,
                        new int[0], true, -1)), new FirstToken(submitted, ttft));
                if (i >= warmup) {
                    loads.add(load);
                    pairs.add(new double[] {predicted, ttfts.size()});
                }
                ttfts.add(ttft);
            }
            double[] errors = new double[pairs.size()];
            for (int k = 0; k < pairs.size(); k++) {
                double predicted = pairs.get(k)[0];
                double actual = ttfts.get((int) pairs.get(k)[1]).get(30, TimeUnit.SECONDS);
                assertFalse(Double.isNaN(predicted), "the engine had measured its rates after the warm-up");
                errors[k] = Math.abs(TtftPredictor.errorRatio(actual, predicted) - 1);
                if (Boolean.getBoolean("slo.debug")) System.out.printf("pred %.1f actual %.1f %s%n", predicted, actual, loads.get(k));
            }
            Arrays.sort(errors);
            double p90 = errors[(int) Math.ceil(0.9 * errors.length) - 1];
            System.out.printf("TTFT prediction |error| over %d requests (%s arrivals): p50 %.3f, p90 %.3f, max %.3f%n",
                    errors.length, poisson ? "Poisson" : "evenly spaced", errors[errors.length / 2], p90, errors[errors.length - 1]);
            if (p90 > (poisson ? 0.60 : 0.30)) {
                fail("p90 of |actual − predicted| / predicted was " + p90 + " (errors " + Arrays.toString(errors) + ")");
            }
            return p90;
        } finally {
            engine.close();
        }
    }

    private record FirstToken(long submitted, CompletableFuture<Double> ttft) implements TokenSink {
        @Override
        public void onToken(int token, TokenLogprobs logprobs) {
            ttft.complete((System.nanoTime() - submitted) / 1e6);
        }

        @Override
        public void onFinished(FinishReason reason, Usage usage) {
            ttft.completeExceptionally(new AssertionError("finished without a token: " + reason));
        }

        @Override
        public void onFailed(ErrorCode code, String message) {
            ttft.completeExceptionally(new AssertionError("failed: " + code + " " + message));
        }
    }
}
