package io.tandem.engine.sim;

import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class SimulatedEngineTest {
    private static final EngineInfo INFO = new EngineInfo("sim-test", 1000, 512, 16);
    /** Ids 0..2 and every multiple of 7 play the control tokens; 2 is the end token. */
    private static final IntPredicate SAMPLEABLE = id -> id >= 3 && id % 7 != 0;
    private static final int[] EOS = {2};

    private final List<SimulatedEngine> engines = new ArrayList<>();

    private SimulatedEngine engine(SimConfig config) {
        return engine(INFO, config);
    }

    private SimulatedEngine engine(EngineInfo info, SimConfig config) {
        SimulatedEngine e = new SimulatedEngine(info, SAMPLEABLE, EOS, config);
        engines.add(e);
        return e;
    }

    /** Load is published by the engine thread between steps: await it (bounded), never sleep. */
    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what) {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("not within 10 s: " + what);
            java.util.concurrent.locks.LockSupport.parkNanos(100_000); // a polling interval, not a synchronisation
        }
    }

    @AfterEach
    void closeAll() {
        engines.forEach(SimulatedEngine::close);
    }

    private static SamplingParams sampling(int maxTokens, Long seed, boolean ignoreEos, int... stopIds) {
        return new SamplingParams(maxTokens, 1f, 1f, 0, 0f, seed, 0f, 0f, stopIds, ignoreEos, -1);
    }

    private static EngineRequest request(String id, int promptLength, SamplingParams s) {
        return new EngineRequest(id, IntStream.range(0, promptLength).map(i -> 3 + i % 900).toArray(), s);
    }

    private static RecordingSink run(SimulatedEngine engine, EngineRequest req) throws Exception {
        RecordingSink sink = new RecordingSink();
        engine.submit(req, sink);
        sink.await();
        return sink;
    }

    @Test
    void idsFollowTheContextAndTheSeed() throws Exception {
        SimConfig noEos = SimConfig.instant().withEosProbability(0);
        int[] a = run(engine(noEos), request("a", 5, sampling(50, 42L, false))).tokens();
        int[] b = run(engine(noEos), request("b", 5, sampling(50, 42L, false))).tokens();
        int[] c = run(engine(noEos), request("c", 5, sampling(50, 43L, false))).tokens();
        int[] d = run(engine(noEos), request("d", 9, sampling(50, 42L, false))).tokens();
        assertEquals(50, a.length);
        assertArrayEquals(a, b, "same prompt and seed, same ids (on another engine too)");
        assertFalse(Arrays.equals(a, c), "another seed samples otherwise");
        assertFalse(Arrays.equals(a, d), "another prompt is another context");
    }

    @Test
    void sameSeedSameIdsAloneOrInABatch() throws Exception {
        SimulatedEngine engine = engine(SimConfig.instant().withEosProbability(0.05));
        int[] alone = run(engine, request("alone", 5, sampling(40, 7L, false))).tokens();
        List<RecordingSink> sinks = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            RecordingSink s = new RecordingSink();
            engine.submit(request("batch-" + i, 5, sampling(40, i == 4 ? 7L : (long) i + 100, false)), s);
            sinks.add(s);
        }
        for (RecordingSink s : sinks) s.await();
        assertArrayEquals(alone, sinks.get(4).tokens());
    }

    @Test
    void greedyWithoutSeedFollowsThePromptSampledWithoutSeedIsRandom() throws Exception {
        SimulatedEngine engine = engine(SimConfig.instant().withEosProbability(0));
        var greedy = SamplingParams.greedy(30);
        assertArrayEquals(run(engine, request("g1", 8, greedy)).tokens(), run(engine, request("g2", 8, greedy)).tokens());
        assertFalse(Arrays.equals(run(engine, request("g3", 8, greedy)).tokens(), run(engine, request("g4", 9, greedy)).tokens()));
        assertFalse(Arrays.equals(run(engine, request("r1", 8, sampling(30, null, false))).tokens(),
                run(engine, request("r2", 8, sampling(30, null, false))).tokens()));
    }

    @Test
    void drawsFromTheWholeVocabularyButNeverControlOrEndTokens() throws Exception {
        SimulatedEngine engine = engine(new EngineInfo("big-context", 1000, 32_768, 16), SimConfig.instant().withEosProbability(0.5));
        int[] ids = run(engine, request("v", 4, sampling(20_000, 1L, true))).tokens();
        assertEquals(20_000, ids.length, "ignore_eos runs to max_tokens");
        Set<Integer> distinct = new HashSet<>();
        for (int id : ids) {
            assertTrue(SAMPLEABLE.test(id) && id < INFO.vocabSize(), "sampled a control token " + id);
            distinct.add(id);
        }
        long sampleable = IntStream.range(0, INFO.vocabSize()).filter(SAMPLEABLE).count();
        assertEquals(sampleable, distinct.size(), "20k draws cover every sampleable id");
    }

    @Test
    void maxTokensEndsWithLengthAndHonestUsage() throws Exception {
        RecordingSink s = run(engine(SimConfig.instant().withEosProbability(0)), request("m", 21, sampling(17, 3L, false)));
        var t = s.await();
        assertEquals(FinishReason.LENGTH, t.reason());
        assertEquals(new Usage(21, 17, 0), t.usage());
        assertEquals(17, s.count());
        assertEquals(1, s.terminalCalls.get());
        assertFalse(s.sawLogprobs, "no logprobs unless asked for");
    }

    @Test
    void logprobsAreTheLogSoftmaxOfTheCandidates() throws Exception {
        SimulatedEngine engine = engine(SimConfig.instant().withEosProbability(0));
        List<TokenLogprobs> seen = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        CompletableFuture<FinishReason> done = new CompletableFuture<>();
        engine.submit(new EngineRequest("lp", new int[] {3, 4, 5}, new SamplingParams(40, 0f, 1f, 0, 0f, null, 0f, 0f,
                new int[0], false, 20)), new TokenSink() {
            @Override
            public void onToken(int token, TokenLogprobs logprobs) {
                tokens.add(token);
                seen.add(logprobs);
            }

            @Override
            public void onFinished(FinishReason reason, Usage usage) {
                done.complete(reason);
            }

            @Override
            public void onFailed(ErrorCode code, String message) {
                done.completeExceptionally(new AssertionError(code + ": " + message));
            }
        });
        assertEquals(FinishReason.LENGTH, done.get(10, TimeUnit.SECONDS));
        for (int i = 0; i < seen.size(); i++) {
            TokenLogprobs lp = seen.get(i);
            assertEquals(tokens.get(i), lp.token());
            assertTrue(lp.topTokens().length >= 2 && lp.topTokens().length <= 8, "at most the candidates: " + lp.topTokens().length);
            assertEquals(lp.topTokens()[0], lp.token(), "greedy takes the best candidate");
            assertEquals(lp.topLogprobs()[0], lp.logprob());
            double mass = 0;
            for (int j = 0; j < lp.topLogprobs().length; j++) {
                mass += Math.exp(lp.topLogprobs()[j]);
                if (j > 0) assertTrue(lp.topLogprobs()[j] <= lp.topLogprobs()[j - 1], "best first");
            }
            assertEquals(1.0, mass, 1e-5, "every candidate listed: the probabilities sum to 1");
        }
    }

    @Test
    void contextLengthEndsWithLength() throws Exception {
        SimulatedEngine engine = engine(new EngineInfo("ctx", 1000, 32, 16), SimConfig.instant().withEosProbability(0));
        RecordingSink s = run(engine, request("c", 30, sampling(100, 1L, false)));
        assertEquals(FinishReason.LENGTH, s.await().reason());
        assertEquals(new Usage(30, 2, 0), s.await().usage());
    }

    @Test
    void stopTokenIdsEndWithStopAndAreNotEmitted() throws Exception {
        // four sampleable ids, one of them a stop id: it comes up within a few tokens
        EngineInfo tiny = new EngineInfo("tiny", 8, 4096, 16);
        SimulatedEngine engine = new SimulatedEngine(tiny, id -> id >= 3 && id <= 6, EOS, SimConfig.instant().withEosProbability(0));
        engines.add(engine);
        for (long seed = 0; seed < 20; seed++) {
            RecordingSink s = run(engine, new EngineRequest("s" + seed, new int[] {3}, sampling(1000, seed, false, 5)));
            var t = s.await();
            assertEquals(FinishReason.STOP, t.reason());
            assertTrue(Arrays.stream(s.tokens()).noneMatch(id -> id == 5));
            assertEquals(s.count(), t.usage().completionTokens());
        }
    }

    @Test
    void eosEndsWithStopUnlessIgnored() throws Exception {
        SimulatedEngine always = engine(SimConfig.instant().withEosProbability(1));
        RecordingSink s = run(always, request("e", 4, sampling(50, 1L, false)));
        assertEquals(FinishReason.STOP, s.await().reason());
        assertEquals(new Usage(4, 0, 0), s.await().usage());
        RecordingSink ignored = run(always, request("i", 4, sampling(50, 1L, true)));
        assertEquals(FinishReason.LENGTH, ignored.await().reason());
        assertEquals(50, ignored.count());

        // p = 0.2 gives geometric lengths with mean about 4 (the end depends on the context: prompts differ)
        SimulatedEngine some = engine(SimConfig.instant().withEosProbability(0.2));
        int total = 0;
        for (long seed = 0; seed < 300; seed++) {
            int[] prompt = {3 + (int) seed, 4, 5, 6};
            RecordingSink r = run(some, new EngineRequest("g" + seed, prompt, sampling(1000, seed, false)));
            assertEquals(FinishReason.STOP, r.await().reason());
            total += r.count();
        }
        double mean = total / 300.0;
        assertTrue(mean > 2.5 && mean < 6, "mean length " + mean);
    }

    @Test
    void concurrentRequestsAreBatched() throws Exception {
        SimConfig timed = new SimConfig(0, 3_000_000, 0, 0, 64, 256, 0);
        SimulatedEngine engine = engine(timed);
        long t0 = System.nanoTime();
        run(engine, request("one", 4, sampling(20, 1L, false)));
        long single = System.nanoTime() - t0;
        assertTrue(single >= 19 * 3_000_000L, "20 tokens take 19 decode steps of 3 ms, took " + single / 1e6 + " ms");

        t0 = System.nanoTime();
        List<RecordingSink> sinks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            RecordingSink s = new RecordingSink();
            engine.submit(request("b" + i, 4, sampling(20, (long) i, false)), s);
            sinks.add(s);
        }
        for (RecordingSink s : sinks) assertEquals(20, s.await().usage().completionTokens());
        long eight = System.nanoTime() - t0;
        assertTrue(eight < 3 * single, "8 batched requests took " + eight / 1e6 + " ms, one took " + single / 1e6 + " ms");
    }

    @Test
    void stepTimeFollowsTheTimingModel() throws Exception {
        VirtualClock clock = new VirtualClock();
        SimConfig cfg = new SimConfig(1_000, 100_000, 10_000, 10, 64, 256, 0);
        SimulatedEngine engine = new SimulatedEngine(INFO, SAMPLEABLE, EOS, cfg, clock);
        engines.add(engine);
        RecordingSink s = run(engine, request("t", 10, sampling(5, 1L, false)));
        // step 1: prefill of 10 tokens (first token); steps 2..5 decode one sequence at context 11..14
        long expected = 10 * 1_000 + 4 * (100_000 + 10_000) + 10 * (11 + 12 + 13 + 14);
        assertEquals(5, s.count());
        assertEquals(expected, clock.nanoTime());
    }

    @Test
    void cancelRunningAndWaitingRequestsFreesThem() throws Exception {
        SimulatedEngine engine = engine(new SimConfig(0, 1_000_000, 0, 0, 1, 10, 0));
        RecordingSink running = new RecordingSink(), waiting = new RecordingSink();
        engine.submit(request("run", 40, sampling(100_000, 1L, false)), running);
        running.awaitTokens(3);
        engine.submit(request("wait", 4, sampling(10, 1L, false)), waiting);
        assertEquals(2, engine.activeRequests());
        awaitTrue(() -> engine.load().waitingRequests() == 1, "the load shows the waiting request");

        engine.cancel("wait");
        var w = waiting.await();
        assertEquals(FinishReason.CANCELLED, w.reason());
        assertEquals(new Usage(4, 0, 0), w.usage());

        engine.cancel("run");
        var r = running.await();
        assertEquals(FinishReason.CANCELLED, r.reason());
        assertEquals(running.count(), r.usage().completionTokens(), "usage counts exactly the tokens delivered");
        assertEquals(0, engine.activeRequests());
        assertEquals(0, engine.load().activeBlocks());
        assertEquals(0, engine.load().runningRequests());
        engine.cancel("run"); // unknown ids are ignored
        assertEquals(1, running.terminalCalls.get());
    }

    @Test
    void pausedSequencesAreSkippedButKeepTheirPlace() throws Exception {
        SimulatedEngine engine = engine(new SimConfig(0, 500_000, 0, 0, 2, 10, 0));
        RecordingSink paused = new RecordingSink(), other = new RecordingSink();
        engine.submit(request("p", 40, sampling(200, 1L, false)), paused);
        paused.awaitTokens(2);
        engine.setPaused("p", true);
        int before = paused.count();
        assertTrue(engine.isPaused("p"));
        // the other request still runs to completion beside it; its first token comes from a step that began after
        // the pause, so any step that was in flight at the pause has delivered by then
        engine.submit(request("o", 4, sampling(30, 2L, false)), other);
        assertEquals(30, other.await().usage().completionTokens());
        int frozen = paused.count();
        assertTrue(frozen <= before + 1, "at most the step under way when it paused delivers a token");
        RecordingSink third = new RecordingSink();
        engine.submit(request("o2", 6, sampling(30, 3L, false)), third);
        assertEquals(30, third.await().usage().completionTokens());
        assertEquals(frozen, paused.count(), "no token while paused");
        assertEquals(1, engine.load().runningRequests(), "it keeps its place in the batch");
        // its last sampled token's KV is not computed yet: 40 + frozen - 1 positions
        assertEquals((40 + frozen - 1 + 15) / 16, engine.load().activeBlocks(), "and its KV blocks");

        engine.setPaused("p", false);
        var t = paused.await();
        assertEquals(FinishReason.LENGTH, t.reason());
        assertEquals(200, paused.count());
        assertEquals(0, engine.activeRequests());
    }

    @Test
    void pausedWaitingRequestsLetOthersPass() throws Exception {
        SimulatedEngine engine = engine(SimConfig.instant().withEosProbability(0));
        RecordingSink first = new RecordingSink(), second = new RecordingSink();
        // a request paused before admission (zero initial credit) is not admitted until resumed
        engine.submit(request("first", 4, sampling(5, 1L, false)), first);
        engine.setPaused("first", true);
        engine.submit(request("second", 4, sampling(5, 1L, false)), second);
        second.await();
        engine.setPaused("first", false);
        assertEquals(5, first.await().usage().completionTokens());
    }

    @Test
    void rejectsWhenTheWaitingQueueIsFullOrTheRequestIsInvalid() throws Exception {
        SimulatedEngine engine = engine(new SimConfig(0, 1_000_000, 0, 0, 1, 2, 0));
        RecordingSink holder = new RecordingSink();
        engine.submit(request("hold", 4, sampling(10_000, 1L, false)), holder);
        holder.awaitTokens(1);
        engine.submit(request("w1", 4, sampling(5, 1L, false)), new RecordingSink());
        RecordingSink w2 = new RecordingSink();
        engine.submit(request("w2", 4, sampling(5, 1L, false)), w2);
        var full = assertThrows(EngineRejectedException.class,
                () -> engine.submit(request("w3", 4, sampling(5, 1L, false)), new RecordingSink()));
        assertEquals(ErrorCode.OVERLOADED, full.code());
        assertEquals(3, engine.activeRequests(), "nothing held for the rejected request");

        var tooLong = assertThrows(EngineRejectedException.class,
                () -> engine.submit(request("long", INFO.contextLength(), sampling(5, 1L, false)), new RecordingSink()));
        assertEquals(ErrorCode.INVALID_REQUEST, tooLong.code());
        assertTrue(tooLong.getMessage().contains("512"), tooLong.getMessage());
        var empty = assertThrows(EngineRejectedException.class,
                () -> engine.submit(new EngineRequest("empty", new int[0], sampling(5, 1L, false)), new RecordingSink()));
        assertEquals(ErrorCode.INVALID_REQUEST, empty.code());
        var outside = assertThrows(EngineRejectedException.class,
                () -> engine.submit(new EngineRequest("oov", new int[] {3, 1000}, sampling(5, 1L, false)), new RecordingSink()));
        assertEquals(ErrorCode.INVALID_REQUEST, outside.code());
        var stillFull = assertThrows(EngineRejectedException.class,
                () -> engine.submit(request("hold", 4, sampling(5, 1L, false)), new RecordingSink()));
        assertEquals(ErrorCode.OVERLOADED, stillFull.code(), "as on the CPU engine, the id check comes after the limit");
        engine.cancel("w2");
        w2.await();
        var duplicate = assertThrows(EngineRejectedException.class,
                () -> engine.submit(request("hold", 4, sampling(5, 1L, false)), new RecordingSink()));
        assertEquals(ErrorCode.INVALID_REQUEST, duplicate.code());
        assertEquals(2, engine.activeRequests());
    }

    @Test
    void closeFailsPendingRequestsAndRefusesNewOnes() throws Exception {
        SimulatedEngine engine = engine(new SimConfig(0, 1_000_000, 0, 0, 2, 10, 0));
        List<RecordingSink> sinks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            RecordingSink s = new RecordingSink();
            engine.submit(request("c" + i, 4, sampling(100_000, (long) i, false)), s);
            sinks.add(s);
        }
        sinks.get(0).awaitTokens(1);
        engine.close();
        for (RecordingSink s : sinks) {
            assertEquals(ErrorCode.UNAVAILABLE, s.await().code());
            assertEquals(1, s.terminalCalls.get());
        }
        assertEquals(0, engine.activeRequests());
        var e = assertThrows(EngineRejectedException.class, () -> engine.submit(request("late", 4, sampling(5, 1L, false)), new RecordingSink()));
        assertEquals(ErrorCode.UNAVAILABLE, e.code());
    }

    @Test
    void aThrowingSinkFailsOnlyItsRequest() throws Exception {
        SimulatedEngine engine = engine(SimConfig.instant().withEosProbability(0));
        RecordingSink bad = new RecordingSink() {
            @Override
            public synchronized void onToken(int token, io.tandem.protocol.TokenLogprobs logprobs) {
                throw new IllegalStateException("consumer bug");
            }
        };
        engine.submit(request("bad", 4, sampling(10, 1L, false)), bad);
        assertEquals(ErrorCode.INTERNAL, bad.await().code());
        assertEquals(10, run(engine, request("good", 4, sampling(10, 1L, false))).count());
        assertEquals(0, engine.activeRequests());
    }

    @Test
    void manyConcurrentRequestsAllEndAndFreeEverything() throws Exception {
        SimulatedEngine engine = engine(new SimConfig(1_000, 200_000, 10_000, 1, 16, 1000, 0.05));
        List<RecordingSink> sinks = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            RecordingSink s = new RecordingSink();
            engine.submit(request("m" + i, 1 + i % 50, sampling(1 + i % 40, (long) i, false)), s);
            sinks.add(s);
            if (i % 7 == 0) engine.cancel("m" + i);
        }
        for (RecordingSink s : sinks) {
            var t = s.await();
            assertNotNull(t.reason());
            assertEquals(s.count(), t.usage().completionTokens());
            assertEquals(1, s.terminalCalls.get());
            assertNull(s.contractViolation);
        }
        assertEquals(0, engine.activeRequests());
        assertEquals(0, engine.load().activeBlocks());
        assertEquals(0, engine.load().waitingRequests());
    }
}
