package io.tandem.engine.cpu;

import io.tandem.engine.cache.EventReplay;
import io.tandem.engine.forward.TestModels;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whatever happens to the requests — they complete, are cancelled at any step, have their sink fail,
 * pause and resume, or are preempted because the cache is small; some are prefill-only, their KV sends
 * completing or failing some steps late — every block is free again at the end, each request got
 * exactly one terminal callback, and replaying the KV events the engine emitted gives exactly the set
 * of blocks its prefix cache holds. Meanwhile no block a send still reads is ever free, and no
 * prefill-only request is answered before its sends settled.
 */
class EngineBlockAccountingPropertiesTest {

    /**
     * What happens to one request. {@code sends} < 0: an ordinary request; else a prefill-only one whose sends settle
     * {@code sends / 2} steps after they are finished or cancelled, failing when {@code sends} is odd.
     */
    record Plan(int promptLength, int sharedPrefix, int maxTokens, int cancelAtStep, int failAtToken, int pauseAtStep,
                int pauseSteps, int sends) {
        boolean prefillOnly() {
            return sends >= 0;
        }
    }

    @Provide
    Arbitrary<Plan> plans() {
        return Combinators.combine(
                Arbitraries.integers().between(1, 70),
                Arbitraries.integers().between(0, 40),
                Arbitraries.integers().between(1, 20),
                Arbitraries.integers().between(-1, 40),  // -1: never cancelled
                Arbitraries.integers().between(-1, 12),  // -1: the sink never throws
                Arbitraries.integers().between(-1, 20),  // -1: never paused
                Arbitraries.integers().between(1, 6),
                Arbitraries.integers().between(-8, 7)).as(Plan::new);
    }

    @Property(tries = 40)
    void everyBlockComesBackAndEventsReplayToTheCache(@ForAll @Size(min = 1, max = 10) List<@net.jqwik.api.From("plans") Plan> plans,
                                                      @ForAll @IntRange(min = 6, max = 40) int numBlocks,
                                                      @ForAll @IntRange(min = 1, max = 64) int tokenBudget) {
        EventReplay events = new EventReplay();
        try (CoreFixture f = new CoreFixture(TestModels.FORTUNE_F32, numBlocks, tokenBudget, 4, true, events)) {
            int vocab = f.model.config().vocabSize();
            int[] shared = new java.util.Random(7).ints(40, 3, vocab).toArray();
            List<Throwing> outputs = new ArrayList<>();
            List<EngineSequence> sequences = new ArrayList<>();
            List<GatedExport> exports = new ArrayList<>(); // null for ordinary requests
            Map<GatedExport, Integer> sealedAt = new HashMap<>();
            for (int i = 0; i < plans.size(); i++) {
                Plan p = plans.get(i);
                int[] prompt = new java.util.Random(i).ints(p.promptLength(), 3, vocab).toArray();
                System.arraycopy(shared, 0, prompt, 0, Math.min(p.sharedPrefix(), prompt.length)); // some prefixes are shared
                if ((prompt.length + p.maxTokens() + 15) / 16 > numBlocks) continue; // the engine refuses these up front
                Throwing out = new Throwing("r" + i, p.failAtToken());
                SamplingParams params = new SamplingParams(p.maxTokens(), 0.8f, 1f, 0, 0f, (long) i, 0f, 0f, new int[0], false, -1);
                EngineSequence s = f.core.newSequence(new io.tandem.engine.EngineRequest(out.id, prompt, params), out);
                GatedExport export = p.prefillOnly() ? new GatedExport() : null;
                s.setExport(export);
                f.core.add(s);
                sequences.add(s);
                exports.add(export);
                outputs.add(out);
            }
            for (int step = 0; f.core.hasWork(); step++) {
                if (step > 20_000) throw new AssertionError("no progress");
                for (int i = 0; i < sequences.size(); i++) {
                    Plan p = plans.get(Integer.parseInt(outputs.get(i).id.substring(1)));
                    if (step == p.cancelAtStep()) sequences.get(i).requestCancel();
                    if (step == p.pauseAtStep()) sequences.get(i).setPaused(true);
                    if (step == p.pauseAtStep() + p.pauseSteps()) sequences.get(i).setPaused(false);
                }
                for (int i = 0; i < exports.size(); i++) { // sends settle some steps after they were finished or cancelled
                    GatedExport e = exports.get(i);
                    if (e == null || !e.sealed() || e.settled()) continue;
                    Plan p = plans.get(Integer.parseInt(outputs.get(i).id.substring(1)));
                    if (step - sealedAt.get(e) < p.sends() / 2) continue; // sealed during an earlier step
                    if (p.sends() % 2 == 1) e.fail("decode peer gone");
                    else e.complete();
                }
                if (!f.core.step()) {
                    for (EngineSequence s : sequences) s.setPaused(false); // everything left is paused
                }
                for (int i = 0; i < exports.size(); i++) {
                    GatedExport e = exports.get(i);
                    if (e == null) continue;
                    if (e.sealed()) sealedAt.putIfAbsent(e, step);
                    if (!e.settled()) {
                        for (int[] table : e.postedTables()) {
                            for (int b : table) assertTrue(f.kv.pool().refCount(b) > 0, outputs.get(i).id + ": block " + b
                                    + " freed while a send reads it");
                        }
                    }
                    if (outputs.get(i).terminalCalls > 0) assertTrue(e.settled(), outputs.get(i).id + " answered before its sends settled");
                }
            }
            assertEquals(f.kv.totalBlocks(), f.kv.freeBlocks(), "free blocks after all requests ended");
            assertEquals(0, f.kv.activeBlocks());
            for (Throwing o : outputs) {
                assertEquals(1, o.terminalCalls, o.id + ": exactly one terminal callback");
                if (o.failAtToken >= 0 && o.tokens.size() > o.failAtToken) {
                    assertEquals(ErrorCode.INTERNAL, o.error, o.id + " failed when its sink threw");
                }
                if (o.error == null) assertNotNull(o.finish);
            }
            Set<Long> cached = new HashSet<>();
            for (long h : f.kv.pool().cachedHashes()) cached.add(h);
            assertEquals(cached, events.hashes, "replayed events == cached blocks");
        }
    }

    /** A sink that throws on its {@code failAt}-th token, as a broken consumer would. */
    static final class Throwing extends CoreFixture.Output {
        final int failAtToken;

        Throwing(String id, int failAtToken) {
            super(id);
            this.failAtToken = failAtToken;
        }

        @Override
        public void onToken(int token, TokenLogprobs lp) {
            super.onToken(token, lp);
            if (tokens.size() - 1 == failAtToken) throw new IllegalStateException("consumer gone");
        }
    }
}
