package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.forward.TestModels;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The prefill side of a remote prefill never waits on the network: a request whose KV sends stall (a decode peer that
 * stops reading) keeps its blocks, and only its blocks, until the sends settle, while the engine goes on prefilling
 * and decoding other requests; its answer goes out when the sends complete, its failure when they fail. Driven step
 * by step, so what runs in which step is the test's choice.
 */
class KvSendsInFlightTest {
    private static final String MODEL = TestModels.FORTUNE_F32;
    private static final SamplingParams FIRST_TOKEN = CoreFixture.greedy(1);

    private static int[] prompt(CoreFixture f, int seed, int length) {
        return new Random(seed).ints(length, 3, f.model.config().vocabSize()).toArray();
    }

    private static EngineSequence addPrefill(CoreFixture f, String id, int[] prompt, GatedExport export, CoreFixture.Output out) {
        EngineSequence s = f.core.newSequence(new EngineRequest(id, prompt, FIRST_TOKEN), out);
        s.setExport(export);
        f.core.add(s);
        return s;
    }

    private static int[] firstTokenAlone(int[] prompt) {
        return Arrays.copyOf(CoreFixture.alone(MODEL, Map.of("p", prompt), FIRST_TOKEN).get("p").tokenArray(), 1);
    }

    private static void assertHeld(CoreFixture f, EngineSequence s, String what) {
        assertTrue(s.kv().blockCount() > 0, what + ": holds blocks");
        for (int b : s.kv().blockTable()) assertTrue(f.kv.pool().refCount(b) > 0, what + ": block " + b + " is not reusable");
        assertEquals(s.kv().blockCount(), f.kv.activeBlocks(), what + ": only its blocks are held");
    }

    private static void assertAllFree(CoreFixture f) {
        assertEquals(f.kv.totalBlocks(), f.kv.freeBlocks(), "every block free");
        assertEquals(0, f.kv.activeBlocks());
        assertFalse(f.core.hasWork());
    }

    @Test
    void otherPrefillsAndDecodesFinishWhileOneRequestsSendsStall() {
        try (CoreFixture f = new CoreFixture(MODEL, 64, 4096, 4, true)) {
            int[] promptA = prompt(f, 1, 40), promptB = prompt(f, 2, 37), promptC = prompt(f, 3, 21);
            GatedExport stalled = new GatedExport();
            CoreFixture.Output a = new CoreFixture.Output("a");
            EngineSequence seqA = addPrefill(f, "a", promptA, stalled, a);
            assertTrue(f.core.step(), "A's prompt is computed");
            assertTrue(stalled.finished(), "A sampled its first token and finished its sends");
            assertEquals(0, a.terminalCalls, "A answers only when its KV is at the decode worker");
            assertTrue(a.tokens.isEmpty());
            assertHeld(f, seqA, "A while sending");

            // B (another remote prefill, fast peer) and C (an ordinary request) arrive while A's sends stall
            GatedExport fast = new GatedExport(true);
            CoreFixture.Output b = new CoreFixture.Output("b");
            addPrefill(f, "b", promptB, fast, b);
            CoreFixture.Output c = f.add("c", promptC, CoreFixture.greedy(12));
            long stepsBefore = f.core.steps();
            for (int i = 0; i < 50 && (b.terminalCalls == 0 || c.terminalCalls == 0); i++) f.core.step();
            assertEquals(FinishReason.LENGTH, b.finish, "B's remote prefill completed");
            assertArrayEquals(firstTokenAlone(promptB), b.tokenArray());
            assertEquals(FinishReason.LENGTH, c.finish, "C decoded to its end");
            assertArrayEquals(CoreFixture.alone(MODEL, Map.of("c", promptC), CoreFixture.greedy(12)).get("c").tokenArray(), c.tokenArray());
            assertEquals(12, f.core.steps() - stepsBefore, "one step per token of C, B prefilled alongside: A took no step");

            assertEquals(0, a.terminalCalls, "A still waits for its sends");
            assertHeld(f, seqA, "A still sending");
            long steps = f.core.steps();
            assertFalse(f.core.step(), "nothing to compute while only A's sends are in flight");
            assertEquals(steps, f.core.steps());

            int wakeups = f.wakeups.get();
            stalled.complete();
            assertEquals(wakeups + 1, f.wakeups.get(), "the settled sends woke the engine");
            f.core.step();
            assertEquals(FinishReason.LENGTH, a.finish, "A answers once its sends completed");
            assertArrayEquals(firstTokenAlone(promptA), a.tokenArray());
            assertEquals(steps, f.core.steps(), "answering A computed nothing");
            assertAllFree(f);
        }
    }

    @Test
    void failedSendsFailTheRequestAndOnlyThenReleaseItsBlocks() {
        try (CoreFixture f = new CoreFixture(MODEL, 64, 4096, 4, true)) {
            GatedExport stalled = new GatedExport();
            CoreFixture.Output a = new CoreFixture.Output("a");
            EngineSequence seqA = addPrefill(f, "a", prompt(f, 1, 40), stalled, a);
            f.core.step();
            f.core.step();
            assertHeld(f, seqA, "A while its sends are in flight");
            stalled.fail("decode peer reset the connection");
            assertHeld(f, seqA, "A until the engine polls");
            f.core.step();
            assertEquals(ErrorCode.INTERNAL, a.error);
            assertTrue(a.errorMessage.contains("decode peer reset the connection"), a.errorMessage);
            assertTrue(a.tokens.isEmpty(), "no first token for a prefill whose KV did not arrive");
            assertEquals(1, a.terminalCalls);
            assertAllFree(f);
        }
    }

    @Test
    void aCancelWhileSendingAnswersOnceTheSendsSettle() {
        try (CoreFixture f = new CoreFixture(MODEL, 64, 4096, 4, true)) {
            GatedExport stalled = new GatedExport();
            CoreFixture.Output a = new CoreFixture.Output("a");
            EngineSequence seqA = addPrefill(f, "a", prompt(f, 1, 40), stalled, a);
            f.core.step();
            seqA.requestCancel();
            f.core.step();
            assertTrue(stalled.cancelled());
            assertEquals(0, a.terminalCalls, "the decode worker hears of the cancel only when nothing more can land in its blocks");
            assertHeld(f, seqA, "A, cancelled, its sends in flight");
            stalled.complete();
            f.core.step();
            assertEquals(FinishReason.CANCELLED, a.finish);
            assertTrue(a.tokens.isEmpty());
            assertAllFree(f);
        }
    }

    @Test
    void aPrefillCancelledMidPromptPostsNothingMoreAndKeepsItsBlocksUntilPostedSendsSettle() {
        // 16 tokens a step: a 40-token prompt takes three steps
        try (CoreFixture f = new CoreFixture(MODEL, 64, 16, 4, true)) {
            GatedExport stalled = new GatedExport();
            CoreFixture.Output a = new CoreFixture.Output("a");
            EngineSequence seqA = addPrefill(f, "a", prompt(f, 1, 40), stalled, a);
            f.core.step();
            assertEquals(16, seqA.kv().computedTokens());
            int layersReported = stalled.postedTables().size();
            seqA.requestCancel();
            f.core.step();
            assertTrue(stalled.cancelled());
            assertFalse(stalled.finished());
            assertEquals(layersReported, stalled.postedTables().size(), "no layer reported after the cancel");
            assertEquals(16, seqA.kv().computedTokens(), "no more compute for a cancelled prefill");
            assertHeld(f, seqA, "A, cancelled mid-prompt, its first chunk's sends in flight");
            assertEquals(0, a.terminalCalls);
            stalled.complete();
            f.core.step();
            assertEquals(FinishReason.CANCELLED, a.finish);
            assertAllFree(f);
        }
    }

    @Test
    void aPrefillOnlySequenceIsNeverPreemptedWhileItsSendsReadItsBlocks() {
        // 6 blocks of 16: C (31-token prompt, 2 blocks) decodes while A's 64-token prompt holds the other 4; when C
        // needs a third block, C is preempted, not A, whose layer-wise sends read its blocks
        try (CoreFixture f = new CoreFixture(MODEL, 6, 16, 4, true)) {
            int[] promptA = prompt(f, 1, 64), promptC = prompt(f, 3, 31);
            CoreFixture.Output c = f.add("c", promptC, CoreFixture.greedy(10));
            f.core.step(); // C's prompt, first chunk
            f.core.step(); // C's prompt done: first token
            GatedExport fast = new GatedExport(true);
            CoreFixture.Output a = new CoreFixture.Output("a");
            EngineSequence seqA = addPrefill(f, "a", promptA, fast, a);
            int computed = 0;
            for (int step = 0; f.core.hasWork(); step++) {
                assertTrue(step < 200, "no progress");
                f.core.step();
                if (a.terminalCalls > 0) continue;
                assertTrue(seqA.kv().computedTokens() >= computed, "A was never sent back to recompute");
                computed = seqA.kv().computedTokens();
                for (int b : seqA.kv().blockTable()) assertTrue(f.kv.pool().refCount(b) > 0, "A's block " + b + " stays held");
            }
            assertTrue(f.core.scheduler().preemptions() > 0, "the cache was too small for both: something was preempted");
            List<int[]> tables = fast.postedTables();
            for (int[] t : tables) assertArrayEquals(tables.getFirst(), t, "A's blocks never changed under its sends");
            assertEquals(FinishReason.LENGTH, a.finish);
            assertArrayEquals(firstTokenAlone(promptA), a.tokenArray());
            assertEquals(FinishReason.LENGTH, c.finish);
            assertArrayEquals(CoreFixture.alone(MODEL, Map.of("c", promptC), CoreFixture.greedy(10)).get("c").tokenArray(),
                    c.tokenArray(), "C recomputed after its preemption and still decoded the same tokens");
            assertAllFree(f);
        }
    }
}
