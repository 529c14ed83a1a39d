package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.BlockPool;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.cache.KvEventLog;
import io.tandem.engine.cache.KvEventSink;
import io.tandem.engine.sample.StopCondition;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scheduler with a latency target, without a model: steps are "computed" by marking their tokens computed and
 * appending a token to each sequence that samples, and cost what a fixed line says (5 ms + 1.25 ms per token, so 76
 * tokens fit in a 100 ms target).
 */
class DecodeFirstSchedulerTest {
    private static final long MS = 1_000_000;
    private static final long TARGET = 100 * MS;
    private static final int BUDGET = 512;

    private final KvCacheManager kv = new KvCacheManager(new BlockPool(1024, new KvEventLog("test", KvEventSink.NONE)),
            new BlockHasher("test", 16), false);
    private final Map<EngineSequence, Integer> generated = new HashMap<>();

    private static long cost(int tokens) {
        return 5 * MS + tokens * 1_250_000L;
    }

    private Scheduler scheduler(long target) {
        StepCostModel model = new StepCostModel();
        for (int tokens : new int[] {1, 16, 512, 64}) model.observe(tokens, cost(tokens));
        return new Scheduler(kv, new PrefillBudget(BUDGET, target, model), 32, s -> false);
    }

    private EngineSequence sequence(String id, int promptTokens, int maxTokens) {
        int[] prompt = IntStream.range(0, promptTokens).map(i -> 1 + (id.hashCode() + i * 7919) % 900).toArray();
        EngineRequest r = new EngineRequest(id, prompt, CoreFixture.greedy(maxTokens));
        return new EngineSequence(r, NO_SINK, kv.newSequence(id, prompt), new StopCondition(r.sampling(), new int[0],
                prompt.length, 8192));
    }

    /** One step: computes the chunks, samples a token for each that reached its end, ends sequences at max_tokens. */
    private List<ScheduledChunk> step(Scheduler s) {
        List<ScheduledChunk> chunks = s.schedule();
        int tokens = 0;
        for (ScheduledChunk c : chunks) {
            EngineSequence seq = c.sequence();
            kv.commitFullBlocks(seq.kv(), c.startPosition() + c.tokens());
            tokens += c.tokens();
            if (!c.samples()) continue;
            seq.emitted();
            int n = generated.merge(seq, 1, Integer::sum);
            if (n == seq.request().sampling().maxTokens()) s.remove(seq);
            else seq.kv().appendToken(7);
        }
        s.observeStep(tokens, cost(tokens));
        return chunks;
    }

    private static int decodes(List<ScheduledChunk> chunks) {
        return (int) chunks.stream().filter(c -> c.tokens() == 1 && c.sequence().emittedTokens() > 0).count();
    }

    @Test
    void aStepHoldingDecodesStaysWithinTheTargetWhileALongPromptProgresses() {
        Scheduler s = scheduler(TARGET);
        List<EngineSequence> streams = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            EngineSequence seq = sequence("stream-" + i, 40, 1000);
            streams.add(seq);
            s.add(seq);
        }
        assertEquals(6 * 40, step(s).stream().mapToInt(ScheduledChunk::tokens).sum(), "no decodes yet: one step prefills all");
        EngineSequence prompt = sequence("long", 1500, 4);
        s.add(prompt);
        int steps = 0, tokensBefore = 0;
        while (generated.getOrDefault(prompt, 0) == 0) {
            List<ScheduledChunk> chunks = step(s);
            steps++;
            int total = chunks.stream().mapToInt(ScheduledChunk::tokens).sum();
            assertEquals(6, decodes(chunks), "every stream gets its token in every step");
            assertTrue(cost(total) <= TARGET, "step " + steps + " computes " + total + " tokens: " + cost(total) / MS + " ms");
            assertTrue(prompt.kv().computedTokens() > tokensBefore || generated.containsKey(prompt), "the prompt progresses");
            tokensBefore = prompt.kv().computedTokens();
            assertTrue(steps < 100, "the prompt is prefilled in bounded steps");
        }
        assertEquals((1500 + (76 - 6) - 1) / (76 - 6), steps, "70 prompt tokens beside 6 decodes in each step");
    }

    @Test
    void withoutATargetAPromptTakesWhatTheDecodesLeaveOfTheTokenBudget() {
        Scheduler s = scheduler(0);
        for (int i = 0; i < 6; i++) s.add(sequence("stream-" + i, 40, 1000));
        step(s);
        s.add(sequence("long", 1500, 4));
        List<ScheduledChunk> chunks = step(s);
        assertEquals(6, decodes(chunks));
        assertEquals(BUDGET, chunks.stream().mapToInt(ScheduledChunk::tokens).sum(), "506 prompt tokens beside 6 decodes");
    }

    @Test
    void promptsArePrefilledOldestFirstWithinTheBudget() {
        Scheduler s = scheduler(TARGET);
        EngineSequence stream = sequence("stream", 16, 1000);
        s.add(stream);
        step(s);
        EngineSequence first = sequence("first", 200, 4), second = sequence("second", 200, 4);
        s.add(first);
        s.add(second);
        List<ScheduledChunk> chunks = step(s);
        assertEquals(List.of(stream, first), chunks.stream().map(ScheduledChunk::sequence).toList(),
                "the older prompt takes the whole prefill budget: 75 tokens");
        assertEquals(75, chunks.get(1).tokens());
        for (int i = 0; i < 2; i++) step(s); // 75 more, then the last 50
        assertTrue(generated.containsKey(first));
        assertEquals(25, second.kv().computedTokens(), "the second prompt only gets what the first left");
    }

    private static final TokenSink NO_SINK = new TokenSink() {
        @Override
        public void onToken(int token, TokenLogprobs logprobs) {
        }

        @Override
        public void onFinished(FinishReason reason, Usage usage) {
        }

        @Override
        public void onFailed(ErrorCode code, String message) {
        }
    };
}
