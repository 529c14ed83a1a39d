package io.tandem.engine.cache;

import io.tandem.protocol.BlockHasher;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random mixes of what a scheduler does to the cache — admit with prefix lookup, chunked
 * prefill, decode, finish, cancel, fail mid-step, preempt and recompute, reset, snapshot —
 * checked against a model after every operation.
 *
 * <p>The model stands in for the KV arenas: each slot of each block records which token prefix
 * its KV was computed for. A prefix-cache hit must hand out blocks whose every slot holds
 * exactly the sequence's own prefix — a wrongly shared, evicted-and-reused or partial block
 * would show up as a mismatch.
 */
class KvCachePropertiesTest {

    enum Kind { ADMIT, STEP, STEP_FAILS, FINISH, CANCEL, PREEMPT, RESET, FLUSH, SNAPSHOT }

    record Op(Kind kind, int slot, int amount) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kinds = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(8, Arbitraries.just(Kind.ADMIT)),
                net.jqwik.api.Tuple.of(14, Arbitraries.just(Kind.STEP)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.STEP_FAILS)),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(Kind.FINISH)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.CANCEL)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.PREEMPT)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(Kind.RESET, Kind.SNAPSHOT)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.FLUSH)));
        return Combinators.combine(kinds, Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 1000))
                .as(Op::new).list().ofMinSize(40).ofMaxSize(200);
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void bookkeepingSurvivesAnyMixOfRequests(@ForAll("ops") List<Op> ops, @ForAll @IntRange(min = 4, max = 16) int numBlocks,
                                            @ForAll @IntRange(min = 1, max = 4) int blockSize, @ForAll long seed) {
        Run run = new Run(numBlocks, blockSize, seed);
        run.play(ops);
        // the generated workloads must reach the interesting states, or passing proves little
        Statistics.label("prefix hit").collect(run.hits > 0);
        Statistics.label("eviction").collect(!run.replay.removedOrder().isEmpty());
        Statistics.label("failed allocation").collect(run.failedAllocations > 0);
        Statistics.label("shared block").collect(run.maxRefCount > 1);
        for (String label : List.of("prefix hit", "eviction", "failed allocation", "shared block")) {
            Statistics.label(label).coverage(c -> c.check(true).percentage(p -> p >= 15));
        }
    }

    /** One workload: up to four sequences in slots, a model of the arenas, a strict event consumer. */
    static final class Run {
        final int bs;
        final Random rnd;
        final EventReplay replay = new EventReplay();
        final BlockPool pool;
        final KvCacheManager kv;
        final KvSequence[] slots = new KvSequence[4];
        final long[][] arena; // [block][slot] = id of the token prefix whose KV is there, 0 = garbage
        final int[][] systemPrompts;
        final List<int[]> history = new java.util.ArrayList<>();
        int hits, failedAllocations, maxRefCount;

        Run(int numBlocks, int blockSize, long seed) {
            bs = blockSize;
            rnd = new Random(seed);
            pool = new BlockPool(numBlocks, new KvEventLog("w", replay, () -> 0L));
            kv = new KvCacheManager(pool, new BlockHasher("m", blockSize), true);
            arena = new long[numBlocks][blockSize];
            systemPrompts = new int[3][];
            for (int i = 0; i < systemPrompts.length; i++) systemPrompts[i] = tokens(bs * (1 + rnd.nextInt(4)) + rnd.nextInt(bs));
        }

        void play(List<Op> ops) {
            for (Op op : ops) {
                apply(op);
                check();
            }
            for (int i = 0; i < slots.length; i++) finish(i);
            kv.flushEvents();
            check();
            assertEquals(pool.numBlocks(), kv.freeBlocks(), "every block is free again");
            assertEquals(0, kv.activeBlocks());
            for (int b = 0; b < pool.numBlocks(); b++) assertEquals(0, pool.refCount(b));
        }

        void apply(Op op) {
            KvSequence s = slots[op.slot()];
            switch (op.kind()) {
                case ADMIT -> {
                    if (s != null) return;
                    s = kv.newSequence("s" + op.amount(), concat(promptHead(op.amount()), tokens(1 + rnd.nextInt(2 * bs))));
                    slots[op.slot()] = s;
                    admit(s);
                }
                case STEP -> { if (s != null) step(s, op.amount(), true); }
                case STEP_FAILS -> { // blocks allocated, the forward pass failed: the request is failed and released
                    if (s == null) return;
                    step(s, op.amount(), false);
                    finish(op.slot());
                }
                case FINISH, CANCEL -> finish(op.slot());
                case PREEMPT -> { if (s != null) kv.release(s); }
                case RESET -> kv.reset();
                case FLUSH -> kv.flushEvents();
                case SNAPSHOT -> kv.publishSnapshot();
            }
        }

        /** Lookup on a sequence that holds nothing; checks the hit's blocks hold exactly its prefix. */
        void admit(KvSequence s) {
            int hit = kv.longestCachedPrefix(s);
            if (hit > 0) hits++;
            assertEquals(0, hit % bs);
            assertTrue(hit <= Math.max(0, s.tokenCount() - 1), "the last token is never served from cache");
            assertEquals(hit, s.computedTokens());
            for (int p = 0; p < hit; p++) {
                assertEquals(prefixId(s, p), arena[s.block(p / bs)][p % bs], "cached block holds another prefix at position " + p);
            }
        }

        void step(KvSequence s, int amount, boolean computes) {
            if (s.blockCount() == 0 && s.computedTokens() == 0) admit(s); // waiting (new or preempted): admit again
            if (s.uncomputedTokens() == 0) s.appendToken(rnd.nextInt(3)); // decode: the token sampled last step
            int chunk = Math.min(s.uncomputedTokens(), 1 + amount % (3 * bs));
            Snapshot before = new Snapshot(this, s);
            if (!kv.allocateFor(s, chunk)) {
                assertEquals(before, new Snapshot(this, s), "a failed allocation changes nothing");
                failedAllocations++;
                kv.release(s); // a scheduler would preempt someone; here the sequence itself waits
                return;
            }
            assertTrue(s.capacity() >= s.computedTokens() + chunk);
            if (!computes) return;
            for (int p = s.computedTokens(); p < s.computedTokens() + chunk; p++) {
                int block = s.block(p / bs);
                assertEquals(1, pool.refCount(block), "writing KV into a shared block");
                assertFalse(pool.isCached(block), "writing KV into a cached block");
                arena[block][p % bs] = prefixId(s, p);
            }
            kv.commitFullBlocks(s, s.computedTokens() + chunk);
        }

        /** How prompts start: a shared system prompt, an earlier conversation continued, or nothing shared. */
        int[] promptHead(int amount) {
            int kind = amount % 10;
            int[] head = new int[0];
            if (kind < 3) head = systemPrompts[amount % systemPrompts.length];
            else if (kind < 8 && !history.isEmpty()) head = history.get(amount % history.size());
            // at most half the pool, so most requests fit and the pool sees churn rather than only refusals
            return java.util.Arrays.copyOf(head, Math.min(head.length, pool.numBlocks() / 2 * bs));
        }

        void finish(int slot) {
            if (slots[slot] != null) {
                history.add(slots[slot].tokens());
                kv.release(slots[slot]);
            }
            slots[slot] = null;
        }

        void check() {
            pool.verify();
            Map<Integer, Integer> holders = new HashMap<>();
            for (KvSequence s : slots) {
                if (s == null) continue;
                assertTrue(s.computedTokens() <= s.capacity() && s.computedTokens() <= s.tokenCount());
                assertEquals(s.computedTokens() / bs, s.committedBlocks());
                java.util.Set<Integer> own = new java.util.HashSet<>();
                for (int i = 0; i < s.blockCount(); i++) {
                    assertTrue(own.add(s.block(i)), "a block twice in one table");
                    holders.merge(s.block(i), 1, Integer::sum);
                }
            }
            for (int b = 0; b < pool.numBlocks(); b++) {
                assertEquals(holders.getOrDefault(b, 0), pool.refCount(b), "ref count of block " + b);
                maxRefCount = Math.max(maxRefCount, pool.refCount(b));
            }
            assertEquals(pool.numBlocks(), kv.freeBlocks() + kv.activeBlocks());
            if (!pool.events().hasPending()) {
                assertEquals(EventReplay.setOf(pool.cachedHashes()), replay.hashes, "replayed events = cached blocks");
            }
        }

        /** An id of the token prefix [0, p] — what the KV at position p depends on. */
        static long prefixId(KvSequence s, int p) {
            long h = 1;
            for (int i = 0; i <= p; i++) h = h * 1_000_003L + s.token(i) + 7;
            return h == 0 ? 1 : h;
        }

        int[] tokens(int n) {
            int[] t = new int[n];
            for (int i = 0; i < n; i++) t[i] = rnd.nextInt(3); // a tiny alphabet: unrelated prompts collide too
            return t;
        }

        static int[] concat(int[] a, int[] b) {
            int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, out, a.length, b.length);
            return out;
        }
    }

    /** What a failed allocation must leave untouched. */
    record Snapshot(int free, int active, int cached, boolean pending, int blocks, int computed, List<Long> hashes) {
        Snapshot(Run run, KvSequence s) {
            this(run.kv.freeBlocks(), run.kv.activeBlocks(), run.kv.cachedBlocks(), run.pool.events().hasPending(),
                    s.blockCount(), s.computedTokens(), java.util.Arrays.stream(run.pool.cachedHashes()).sorted().boxed().toList());
        }
    }
}
