package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.forward.TestModels;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.KvReservation;
import io.tandem.engine.remote.LayerwiseExportPlan;
import io.tandem.engine.remote.RemotePrefill;
import io.tandem.engine.remote.SendStatus;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prompt prefilled by one engine, its KV copied layer by layer into the blocks another engine reserved, and decoded
 * there gives exactly what one engine gives alone: greedy tokens identical, logprobs within 1e-5. The copy here is a
 * plain memory copy between the two caches (the transfer backends are tested on their own); what is tested is the
 * engines' side: reservation, the layer-wise export plan, the first token handed over, the fallback and the cancel.
 */
class DisaggregatedEqualsAggregatedTest {
    private static final int MAX_TOKENS = 24;

    @ParameterizedTest
    @ValueSource(strings = {TestModels.LLAMA, TestModels.QWEN3, TestModels.FORTUNE_F32, TestModels.FORTUNE_Q8})
    void batchOfRemotePrefillsEqualsAlone(String model) {
        Map<String, int[]> prompts = EngineEquivalenceTest.prompts(model);
        try (CoreFixture prefill = new CoreFixture(model, 256, 4096, 16, true);
             CoreFixture decode = new CoreFixture(model, 256, 4096, 16, true)) {
            var outputs = disaggregated(prefill, decode, prompts, CoreFixture.greedy(MAX_TOKENS));
            EngineEquivalenceTest.assertSame(model + " disaggregated", CoreFixture.alone(model, prompts, CoreFixture.greedy(MAX_TOKENS)), outputs);
            assertAllFree(prefill, decode);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {TestModels.LLAMA, TestModels.FORTUNE_Q8})
    void chunkedPrefillWithPrefixHitsOnBothSidesEqualsAlone(String model) {
        Map<String, int[]> prompts = EngineEquivalenceTest.prompts(model);
        // 7 tokens a step: the layer-wise export sees chunks ending mid-block
        try (CoreFixture prefill = new CoreFixture(model, 256, 7, 16, true);
             CoreFixture decode = new CoreFixture(model, 256, 4096, 16, true)) {
            Map<String, int[]> first = Map.of("long", prompts.get("long"));
            disaggregated(prefill, decode, first, CoreFixture.greedy(MAX_TOKENS)); // both now cache "long"
            var outputs = disaggregated(prefill, decode, prompts, CoreFixture.greedy(MAX_TOKENS));
            assertTrue(outputs.get("long-next-turn").usage.cachedTokens() >= 16, "the decode worker reused its cached prefix");
            EngineEquivalenceTest.assertSame(model + " chunked + hits", CoreFixture.alone(model, prompts, CoreFixture.greedy(MAX_TOKENS)), outputs);
            assertAllFree(prefill, decode);
        }
    }

    @Test
    void seededSamplingContinuesOnTheDecodeWorker() {
        String model = TestModels.FORTUNE_F32;
        Map<String, int[]> prompts = EngineEquivalenceTest.prompts(model);
        SamplingParams sampled = new SamplingParams(MAX_TOKENS, 0.9f, 0.95f, 40, 0.02f, 1234L, 0.3f, 0.2f, new int[0], true, 2);
        try (CoreFixture prefill = new CoreFixture(model, 256, 4096, 16, true);
             CoreFixture decode = new CoreFixture(model, 256, 4096, 16, true)) {
            var outputs = disaggregated(prefill, decode, prompts, sampled);
            EngineEquivalenceTest.assertSame(model + " seeded", CoreFixture.alone(model, prompts, sampled), outputs);
        }
    }

    @Test
    void aFailedRemotePrefillFallsBackToLocalPrefill() {
        String model = TestModels.FORTUNE_F32;
        Map<String, int[]> prompts = EngineEquivalenceTest.prompts(model);
        try (CoreFixture decode = new CoreFixture(model, 256, 4096, 16, true)) {
            Map<String, CoreFixture.Output> outputs = new LinkedHashMap<>();
            Map<String, EngineSequence> sequences = new LinkedHashMap<>();
            Map<String, KvReservation> reservations = new LinkedHashMap<>();
            prompts.forEach((name, p) -> {
                CoreFixture.Output out = new CoreFixture.Output(name);
                EngineSequence s = decode.core.newSequence(new EngineRequest(name, p, CoreFixture.greedy(MAX_TOKENS)), out);
                s.setRemote(recording(reservations));
                decode.core.add(s);
                outputs.put(name, out);
                sequences.put(name, s);
            });
            decode.core.step();
            assertEquals(prompts.size(), reservations.size(), "every request reserved its blocks and went remote");
            assertTrue(decode.kv.activeBlocks() > 0, "reserved blocks are held");
            sequences.values().forEach(s -> decode.core.failRemotePrefill(s, "prefill worker died"));
            decode.runToCompletion();
            EngineEquivalenceTest.assertSame(model + " fallback", CoreFixture.alone(model, prompts, CoreFixture.greedy(MAX_TOKENS)), outputs);
            assertEquals(decode.kv.totalBlocks(), decode.kv.freeBlocks());
        }
    }

    @Test
    void aCancelWhileAwaitingKvHoldsTheBlocksUntilThePrefillWorkerAnswers() {
        String model = TestModels.FORTUNE_F32;
        int[] prompt = EngineEquivalenceTest.prompts(model).get("long");
        try (CoreFixture decode = new CoreFixture(model, 64, 4096, 16, true)) {
            CoreFixture.Output out = new CoreFixture.Output("c");
            EngineSequence s = decode.core.newSequence(new EngineRequest("c", prompt, CoreFixture.greedy(MAX_TOKENS)), out);
            int[] cancels = new int[1];
            Map<String, KvReservation> reservations = new LinkedHashMap<>();
            s.setRemote(new RemotePrefill() {
                public boolean begin(KvReservation r) {
                    reservations.put(r.requestId(), r);
                    return true;
                }

                public void cancel(String id) {
                    cancels[0]++;
                }
            });
            decode.core.add(s);
            decode.core.step();
            int held = decode.kv.activeBlocks();
            assertEquals(decode.kv.blocksNeeded(decode.kv.newSequence("x", prompt), prompt.length), held);
            s.requestCancel();
            decode.core.step();
            decode.core.step();
            assertEquals(1, cancels[0], "the prefill worker is told once");
            assertEquals(held, decode.kv.activeBlocks(), "blocks stay reserved: the prefill worker may still write them");
            assertEquals(0, out.terminalCalls);
            decode.core.completeRemotePrefill(s, 5, null);
            assertEquals(FinishReason.CANCELLED, out.finish);
            assertEquals(decode.kv.totalBlocks(), decode.kv.freeBlocks());
        }
    }

    // ---- the disaggregated run ----

    /** Reserves on {@code decode}, prefills on {@code prefill} with the KV copied in, then decodes to the end. */
    static Map<String, CoreFixture.Output> disaggregated(CoreFixture prefill, CoreFixture decode, Map<String, int[]> prompts,
                                                       SamplingParams params) {
        Map<String, CoreFixture.Output> outputs = new LinkedHashMap<>();
        Map<String, EngineSequence> sequences = new LinkedHashMap<>();
        Map<String, KvReservation> reservations = new LinkedHashMap<>();
        prompts.forEach((name, p) -> {
            CoreFixture.Output out = new CoreFixture.Output(name);
            EngineSequence s = decode.core.newSequence(new EngineRequest(name, p, params), out);
            s.setRemote(recording(reservations));
            decode.core.add(s);
            outputs.put(name, out);
            sequences.put(name, s);
        });
        decode.core.step(); // admission: blocks reserved, nothing computed
        assertEquals(prompts.size(), reservations.size());
        for (CoreFixture.Output o : outputs.values()) assertTrue(o.tokens.isEmpty());

        Map<String, CoreFixture.Output> firstTokens = new LinkedHashMap<>();
        for (KvReservation r : reservations.values()) {
            CoreFixture.Output first = new CoreFixture.Output(r.requestId());
            EngineSequence ps = prefill.core.newSequence(new EngineRequest(r.requestId(), r.promptTokens(), params), first);
            ps.setExport(new CopyingExport(LayerwiseExportPlan.of(r, 16, prefill.cache.layout().layers()), prefill.cache, decode.cache));
            prefill.core.add(ps);
            firstTokens.put(r.requestId(), first);
        }
        prefill.runToCompletion();
        for (var e : firstTokens.entrySet()) {
            CoreFixture.Output first = e.getValue();
            assertNull(first.error, first.errorMessage);
            assertEquals(1, first.tokens.size(), "the prefill worker hands over exactly the first token");
            assertEquals(FinishReason.LENGTH, first.finish);
            decode.core.completeRemotePrefill(sequences.get(e.getKey()), first.tokens.getFirst(), first.logprobs.getFirst());
        }
        decode.runToCompletion();
        for (CoreFixture.Output o : outputs.values()) assertNotNull(o.usage, o.id + " finished");
        return outputs;
    }

    private static RemotePrefill recording(Map<String, KvReservation> reservations) {
        return new RemotePrefill() {
            public boolean begin(KvReservation r) {
                reservations.put(r.requestId(), r);
                return true;
            }

            public void cancel(String id) {
            }
        };
    }

    private static void assertAllFree(CoreFixture prefill, CoreFixture decode) {
        assertEquals(prefill.kv.totalBlocks(), prefill.kv.freeBlocks(), "prefill engine: every block free");
        assertEquals(decode.kv.totalBlocks(), decode.kv.freeBlocks(), "decode engine: every block free");
    }

    /** Copies each ready block of each layer, K and V, from one cache into the other; a send is done when posted. */
    private static final class CopyingExport implements KvExport {
        private final LayerwiseExportPlan plan;
        private final KvArenas from, to;
        private boolean finished;
        private Runnable wakeup;

        CopyingExport(LayerwiseExportPlan plan, KvArenas from, KvArenas to) {
            this.plan = plan;
            this.from = from;
            this.to = to;
        }

        @Override
        public void onSettled(Runnable wakeup) {
            this.wakeup = wakeup;
        }

        @Override
        public void layerStored(int layer, int[] blockTable, int computedTokens) {
            long bytes = from.layout().blockBytes();
            for (LayerwiseExportPlan.BlockPair p : plan.ready(layer, blockTable, computedTokens)) {
                MemorySegment.copy(from.keys(layer), from.blockOffset(p.localBlock()), to.keys(layer), to.blockOffset(p.remoteBlock()), bytes);
                MemorySegment.copy(from.values(layer), from.blockOffset(p.localBlock()), to.values(layer), to.blockOffset(p.remoteBlock()), bytes);
            }
        }

        @Override
        public void finishSends() {
            if (!plan.complete()) throw new AssertionError("sends finished before every block was handed out");
            settle();
        }

        @Override
        public void cancel() {
            settle();
        }

        private void settle() {
            finished = true;
            wakeup.run();
        }

        @Override
        public SendStatus poll() {
            return finished ? SendStatus.DONE : SendStatus.PENDING;
        }
    }
}
