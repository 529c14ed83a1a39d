package io.tandem.engine.sim;

import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRequest;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The simulated engine runs on the real scheduler and KV cache manager: a repeated prompt is served from the prefix
 * cache and the cache's KV events are those a router hashes prompts into; a migrated request continues exactly.
 */
class SimulatedEnginePrefixCacheTest {
    private static final EngineInfo INFO = new EngineInfo("sim-kv", 1000, 1024, 16);
    private static final int[] EOS = {2};

    private static SimulatedEngine engine(SimConfig config, LinkedBlockingQueue<KvEventBatch> events) {
        return new SimulatedEngine(INFO, id -> id >= 3, EOS, config, SimClock.SYSTEM, "sim-worker-1", events::add);
    }

    private static int[] prompt(int length, int salt) {
        return IntStream.range(0, length).map(i -> 3 + (i * 31 + salt) % 990).toArray();
    }

    private static RecordingSink run(SimulatedEngine e, EngineRequest r) throws Exception {
        RecordingSink s = new RecordingSink();
        e.submit(r, s);
        s.await();
        return s;
    }

    /** Every block hash stored by the batches received so far, in order. */
    private static List<Long> stored(List<KvEventBatch> batches) {
        List<Long> out = new ArrayList<>();
        for (KvEventBatch b : batches) {
            for (KvEvent ev : b.events()) if (ev instanceof KvEvent.BlocksStored s) for (long h : s.blockHashes()) out.add(h);
        }
        return out;
    }

    @Test
    void aRepeatedPromptIsServedFromThePrefixCacheAndPublishedAsTheRouterHashesIt() throws Exception {
        LinkedBlockingQueue<KvEventBatch> events = new LinkedBlockingQueue<>();
        try (SimulatedEngine e = engine(SimConfig.instant().withEosProbability(0), events)) {
            int[] prompt = prompt(40, 1); // two full blocks and 8 tokens
            SamplingParams greedy = SamplingParams.greedy(9);
            RecordingSink first = run(e, new EngineRequest("first", prompt, greedy));
            assertEquals(0, first.await().usage().cachedTokens());
            RecordingSink second = run(e, new EngineRequest("second", prompt, greedy));
            assertEquals(32, second.await().usage().cachedTokens(), "both full prompt blocks come from the cache");
            assertArrayEquals(first.tokens(), second.tokens(), "a cache hit changes no token");
            assertEquals(32, e.stats().prefixCache().hitTokens());

            List<KvEventBatch> batches = new ArrayList<>(events);
            assertFalse(batches.isEmpty(), "KV events were published");
            for (int i = 0; i < batches.size(); i++) {
                assertEquals("sim-worker-1", batches.get(i).workerId());
                assertEquals(i, batches.get(i).seq(), "numbered without gaps");
            }
            long[] routerHashes = new BlockHasher(INFO.modelName(), INFO.blockSize()).hashBlocks(prompt);
            List<Long> hashes = stored(batches);
            assertEquals(List.of(routerHashes[0], routerHashes[1]), hashes.subList(0, 2),
                    "the prompt's blocks, hashed as the router hashes prompts");
            assertEquals(3, hashes.size(), "prompt plus 9 generated tokens (the last one not yet computed) fill a third block, stored once");

            events.clear();
            e.requestKvSnapshot();
            KvEventBatch snapshot = events.poll(10, TimeUnit.SECONDS);
            assertNotNull(snapshot, "a snapshot was published");
            assertInstanceOf(KvEvent.AllBlocksCleared.class, snapshot.events().getFirst());
            assertEquals(hashes.stream().sorted().toList(), stored(List.of(snapshot)).stream().sorted().toList(),
                    "the snapshot lists every cached block");
        }
    }

    @Test
    void aSharedSystemPromptIsCachedAcrossDifferentRequests() throws Exception {
        LinkedBlockingQueue<KvEventBatch> events = new LinkedBlockingQueue<>();
        try (SimulatedEngine e = engine(SimConfig.instant().withEosProbability(0), events)) {
            int[] system = prompt(64, 7);
            run(e, new EngineRequest("a", concat(system, prompt(20, 1)), SamplingParams.greedy(4)));
            RecordingSink b = run(e, new EngineRequest("b", concat(system, prompt(20, 2)), SamplingParams.greedy(4)));
            assertEquals(64, b.await().usage().cachedTokens());
        }
    }

    @ParameterizedTest(name = "seeded={0}")
    @ValueSource(booleans = {false, true})
    void aResumedRequestContinuesTheUninterruptedTokenStream(boolean seeded) throws Exception {
        SamplingParams params = seeded
                ? new SamplingParams(60, 0.9f, 0.95f, 6, 0.01f, 1234L, 0.4f, 0.6f, new int[0], false, 3)
                : new SamplingParams(60, 0f, 1f, 0, 0f, null, 0.3f, 0.2f, new int[0], true, 3);
        int[] prompt = prompt(37, 3);
        SimConfig config = SimConfig.instant().withEosProbability(0.01);
        int[] all;
        try (SimulatedEngine e = engine(config, new LinkedBlockingQueue<>())) {
            all = run(e, new EngineRequest("whole", prompt, params)).tokens();
        }
        assertTrue(all.length > 20, "long enough to cut: " + all.length);
        // on another engine (the migration target), with and without the prefix already cached there
        try (SimulatedEngine other = engine(config, new LinkedBlockingQueue<>())) {
            for (int cut : new int[] {1, 9, 16, all.length - 1}) {
                RecordingSink rest = run(other, new EngineRequest("rest-" + cut, prompt, params, Arrays.copyOf(all, cut)));
                assertArrayEquals(Arrays.copyOfRange(all, cut, all.length), rest.tokens(), "after " + cut + " resumed tokens");
                RecordingSink.Terminal t = rest.await();
                assertEquals(all.length, t.usage().completionTokens(), "usage counts the resumed tokens once");
                assertEquals(prompt.length, t.usage().promptTokens());
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
