package io.tandem.engine.sim;

import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.cache.KvEventSink;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/** A thousand concurrent streams on one simulated engine: all complete, the cache is shared, and nothing leaks. */
class SimulatedEngineLoadTest {
    private static final EngineInfo INFO = new EngineInfo("sim-load", 32_000, 4096, 16);
    private static final int STREAMS = 1000;
    private static final int TOKENS = 100;

    @Test
    void aThousandConcurrentStreamsCompleteAndFreeEveryBlock() throws Exception {
        // every stream in the batch at once, no modelled time: what the engine itself sustains
        SimConfig config = SimConfig.instant().withCapacity(STREAMS, 0).withEosProbability(0);
        try (SimulatedEngine e = new SimulatedEngine(INFO, id -> id >= 3, new int[] {2}, config, SimClock.SYSTEM, "w",
                KvEventSink.NONE)) {
            int[] system = IntStream.range(0, 96).map(i -> 3 + i * 7).toArray();
            List<RecordingSink> sinks = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < STREAMS; i++) {
                int[] prompt = Arrays.copyOf(system, system.length + 20);
                for (int j = 0; j < 20; j++) prompt[system.length + j] = 3 + (i * 20 + j) % 31_000;
                RecordingSink s = new RecordingSink();
                e.submit(new EngineRequest("s" + i, prompt, new SamplingParams(TOKENS, 0.8f, 1f, 0, 0f, (long) i, 0f, 0f,
                        new int[0], true, -1)), s);
                sinks.add(s);
            }
            int cachedRequests = 0;
            for (RecordingSink s : sinks) {
                RecordingSink.Terminal t = s.done.get(120, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(FinishReason.LENGTH, t.reason(), () -> "ended with " + t);
                assertEquals(TOKENS, s.count());
                assertNull(s.contractViolation);
                if (t.usage().cachedTokens() > 0) cachedRequests++;
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "sim engine: %d streams x %d tokens in %.2f s = %.0f tokens/s (%d steps)%n",
                    STREAMS, TOKENS, seconds, STREAMS * TOKENS / seconds, e.stats().steps());
            assertTrue(cachedRequests > STREAMS / 2, "the shared system prompt is served from the cache: " + cachedRequests);
            assertEquals(0, e.activeRequests());
            assertEquals(0, e.load().activeBlocks(), "every block back");
            assertEquals(0, e.load().runningRequests());
        }
    }
}
