package io.tandem.engine.cpu;

import io.tandem.engine.Await;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.forward.TestModels;
import io.tandem.engine.sim.RecordingSink;
import io.tandem.model.gguf.GgufFile;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The threaded engine: submit, flow control, cancel, refusal and shutdown, on the fortune model. */
class CpuEngineTest {
    private static GgufFile file;
    private static final int[] PROMPT = {1, 450, 4996, 17354, 1701, 29916};

    @BeforeAll
    static void open() throws Exception {
        file = GgufFile.open(TestModels.modelPath(TestModels.FORTUNE_F32));
    }

    @AfterAll
    static void close() {
        file.close();
    }

    private static CpuEngine engine(CpuEngineConfig config) {
        return CpuEngine.open(file, "fortune", CoreFixture.endOfGeneration(TestModels.FORTUNE_F32), config);
    }

    private static CpuEngineConfig small() {
        return CpuEngineConfig.defaults().withThreads(2).withKvCache(8L << 20, io.tandem.engine.kv.KvDataType.F32);
    }

    private static int[] prompt(int vocab) {
        int[] p = PROMPT.clone();
        for (int i = 0; i < p.length; i++) p[i] %= vocab;
        return p;
    }

    @Test
    void generatesTheSameTokensAsTheCoreAndReportsUsage() throws Exception {
        try (CpuEngine e = engine(small())) {
            int[] prompt = prompt(e.info().vocabSize());
            RecordingSink sink = new RecordingSink();
            e.submit(new EngineRequest("a", prompt, CoreFixture.greedy(12)), sink);
            RecordingSink.Terminal t = sink.await();
            assertEquals(FinishReason.LENGTH, t.reason());
            assertEquals(12, t.usage().completionTokens());
            assertEquals(prompt.length, t.usage().promptTokens());
            assertTrue(sink.sawLogprobs);
            var alone = CoreFixture.alone(TestModels.FORTUNE_F32, Map.of("a", prompt), CoreFixture.greedy(12));
            assertArrayEquals(alone.get("a").tokenArray(), sink.tokens());
            assertEquals(0, e.activeRequests());
            assertEquals(0, e.load().activeBlocks());
            assertEquals(e.stats().totalBlocks(), e.stats().freeBlocks());
        }
    }

    @Test
    void aPausedRequestWaitsWithItsBlocksAndResumes() throws Exception {
        try (CpuEngine e = engine(small())) {
            RecordingSink sink = new RecordingSink() {
                @Override
                public synchronized void onToken(int token, io.tandem.protocol.TokenLogprobs lp) {
                    super.onToken(token, lp);
                    if (count() == 3) e.setPaused("p", true); // the consumer ran out of credit
                }
            };
            e.submit(new EngineRequest("p", prompt(e.info().vocabSize()), CoreFixture.greedy(40)), sink);
            sink.awaitTokens(3);
            // steps run one after another: another request's 8 tokens are 8 steps taken while p was paused
            RecordingSink other = new RecordingSink();
            e.submit(new EngineRequest("o", prompt(e.info().vocabSize()), CoreFixture.greedy(8)), other);
            assertEquals(FinishReason.LENGTH, other.await().reason());
            assertEquals(3, sink.count(), "no tokens while paused");
            assertTrue(e.load().activeBlocks() > 0, "a paused request keeps its blocks");
            e.setPaused("p", false);
            assertEquals(FinishReason.LENGTH, sink.await().reason());
            assertEquals(40, sink.count());
        }
    }

    @Test
    void cancelFreesTheBlocksAndEndsTheRequest() throws Exception {
        try (CpuEngine e = engine(small())) {
            RecordingSink sink = new RecordingSink();
            e.submit(new EngineRequest("c", prompt(e.info().vocabSize()), CoreFixture.greedy(200)), sink);
            sink.awaitTokens(2);
            e.cancel("c");
            RecordingSink.Terminal t = sink.await();
            assertEquals(FinishReason.CANCELLED, t.reason());
            assertEquals(sink.count(), t.usage().completionTokens());
            assertEquals(1, sink.terminalCalls.get());
            assertEquals(0, e.activeRequests());
            waitFor(() -> e.stats().freeBlocks() == e.stats().totalBlocks());
        }
    }

    @Test
    void refusesWhatItCannotServeWithAClearReason() {
        try (CpuEngine e = engine(small().withBatching(512, 1))) {
            int vocab = e.info().vocabSize();
            var empty = assertThrows(EngineRejectedException.class, () -> e.submit(new EngineRequest("x", new int[0], CoreFixture.greedy(1)), new RecordingSink()));
            assertEquals(ErrorCode.INVALID_REQUEST, empty.code());
            var badToken = assertThrows(EngineRejectedException.class, () -> e.submit(new EngineRequest("x", new int[]{vocab}, CoreFixture.greedy(1)), new RecordingSink()));
            assertTrue(badToken.getMessage().contains("outside the vocabulary"), badToken.getMessage());
            var tooLong = assertThrows(EngineRejectedException.class, () -> e.submit(new EngineRequest("x", new int[e.info().contextLength()], CoreFixture.greedy(1)), new RecordingSink()));
            assertTrue(tooLong.getMessage().contains("context"), tooLong.getMessage());
            assertEquals(0, e.activeRequests(), "nothing held for refused requests");
        }
        try (CpuEngine e = engine(small().withKvCache(4 * blockBytes(), io.tandem.engine.kv.KvDataType.F32))) {
            var noRoom = assertThrows(EngineRejectedException.class, () -> e.submit(new EngineRequest("x", prompt(e.info().vocabSize()), CoreFixture.greedy(100)), new RecordingSink()));
            assertTrue(noRoom.getMessage().contains("KV cache"), noRoom.getMessage());
        }
    }

    @Test
    void aFullQueueIsOverloaded() throws Exception {
        CpuEngineConfig c = small();
        c = new CpuEngineConfig(c.threads(), c.kernels(), c.kvCacheBytes(), c.kvDataType(), c.blockSize(), 512, 0, 1, 1, true,
                c.computePriority());
        try (CpuEngine e = engine(c)) {
            int[] p = prompt(e.info().vocabSize());
            RecordingSink a = new RecordingSink(), b = new RecordingSink();
            e.submit(new EngineRequest("a", p, CoreFixture.greedy(200)), a);
            e.submit(new EngineRequest("b", p, CoreFixture.greedy(200)), b);
            var full = assertThrows(EngineRejectedException.class, () -> e.submit(new EngineRequest("c", p, CoreFixture.greedy(5)), new RecordingSink()));
            assertEquals(ErrorCode.OVERLOADED, full.code());
            var dup = assertThrows(EngineRejectedException.class, () -> e.submit(new EngineRequest("a", p, CoreFixture.greedy(5)), new RecordingSink()));
            assertEquals(ErrorCode.OVERLOADED, dup.code()); // still full; the id check comes after
            e.cancel("a");
            e.cancel("b");
            a.await();
            b.await();
        }
    }

    @Test
    void closeFailsWhatIsHeldAndRefusesMore() throws Exception {
        CpuEngine e = engine(small());
        RecordingSink sink = new RecordingSink();
        e.submit(new EngineRequest("z", prompt(e.info().vocabSize()), CoreFixture.greedy(200)), sink);
        sink.awaitTokens(1);
        e.close();
        RecordingSink.Terminal t = sink.await();
        assertNull(t.reason());
        assertEquals(ErrorCode.UNAVAILABLE, t.code());
        var closed = assertThrows(EngineRejectedException.class, () -> e.submit(new EngineRequest("y", new int[]{1}, CoreFixture.greedy(1)), new RecordingSink()));
        assertEquals(ErrorCode.UNAVAILABLE, closed.code());
        e.close(); // idempotent
    }

    @Test
    void anEngineWaitingOnlyForKvSendsParksAndWakesWhenTheyComplete() throws Exception {
        try (CpuEngine e = engine(small())) {
            GatedExport stalled = new GatedExport();
            try {
                parksWhileOnlyASendIsInFlight(e, stalled);
            } finally {
                stalled.complete(); // else a failed assertion would leave close() waiting for the send
            }
        }
    }

    private static void parksWhileOnlyASendIsInFlight(CpuEngine e, GatedExport stalled) throws Exception {
        int vocab = e.info().vocabSize();
        RecordingSink a = new RecordingSink();
        e.submitPrefill(new EngineRequest("a", prompt(vocab), CoreFixture.greedy(1)), a, stalled);
        assertTrue(stalled.sealedLatch.await(10, TimeUnit.SECONDS), "a's prompt computed, its sends finished");
        RecordingSink b = new RecordingSink(); // an ordinary request runs to its end meanwhile
        e.submit(new EngineRequest("b", prompt(vocab), CoreFixture.greedy(16)), b);
        assertEquals(FinishReason.LENGTH, b.await().reason());
        assertEquals(16, b.count());

        waitFor(e::parkedIdle);
        long loops = e.loops();
        // something that must not happen, so no event can announce it: an explicit window in which a spinning or
        // sleep-polling engine would go round its loop (a correct engine passes whatever the window's length)
        Await.quiet(java.time.Duration.ofMillis(100), () -> e.loops() != loops, () -> "an engine loop while only a send is in flight");
        assertTrue(e.parkedIdle(), "parked without a timeout: not polling on a timer");
        assertFalse(a.done.isDone(), "a answers only once its KV arrived");
        assertEquals(1, e.stats().sending());
        assertTrue(e.load().activeBlocks() > 0, "a's blocks are held while its sends read them");

        stalled.complete();
        RecordingSink.Terminal t = a.await();
        assertEquals(FinishReason.LENGTH, t.reason());
        assertEquals(1, a.count());
        assertTrue(e.loops() - loops <= 2, "woken by the send's completion: " + (e.loops() - loops) + " loops");
        waitFor(() -> e.stats().freeBlocks() == e.stats().totalBlocks());
        assertEquals(0, e.activeRequests());
    }

    @Test
    void closeWaitsForKvSendsThatStillReadTheCacheThenFailsTheirRequests() throws Exception {
        CpuEngine e = engine(small());
        GatedExport stalled = new GatedExport();
        RecordingSink a = new RecordingSink();
        e.submitPrefill(new EngineRequest("a", prompt(e.info().vocabSize()), CoreFixture.greedy(1)), a, stalled);
        assertTrue(stalled.sealedLatch.await(10, TimeUnit.SECONDS));
        CompletableFuture<Void> closing = CompletableFuture.runAsync(e::close);
        waitFor(stalled::cancelled);
        assertFalse(closing.isDone(), "close does not free the cache under a send");
        assertFalse(a.done.isDone());
        stalled.complete();
        closing.get(10, TimeUnit.SECONDS);
        assertEquals(ErrorCode.UNAVAILABLE, a.await().code());
        assertEquals(1, a.terminalCalls.get());
    }

    @Test
    void configParsesSizesAndRejectsUnknownKeys() {
        CpuEngineConfig c = CpuEngineConfig.fromMap(Map.of("kv-cache-memory", "64MiB", "kv-dtype", "f16", "threads", "1",
                "max-num-batched-tokens", 128, "prefix-caching", "false"));
        assertEquals(64L << 20, c.kvCacheBytes());
        assertEquals(io.tandem.engine.kv.KvDataType.F16, c.kvDataType());
        assertEquals(1, c.threads());
        assertEquals(128, c.maxNumBatchedTokens());
        assertEquals(false, c.prefixCaching());
        assertEquals(2L << 30, CpuEngineConfig.bytes("2g"));
        var unknown = assertThrows(IllegalArgumentException.class, () -> CpuEngineConfig.fromMap(Map.of("treads", 2)));
        assertTrue(unknown.getMessage().contains("threads"), unknown.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CpuEngineConfig.bytes("lots"));
    }

    private static long blockBytes() {
        var cfg = io.tandem.model.ModelConfig.from(file.metadata());
        return io.tandem.engine.kv.KvLayout.forModel(cfg, 16, io.tandem.engine.kv.KvDataType.F32, 1).bytesPerBlockAcrossLayers();
    }

    private static void waitFor(java.util.function.BooleanSupplier c) {
        Await.until(c, "the condition");
    }
}
