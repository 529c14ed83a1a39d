package io.tandem.engine.cpu;

import io.tandem.engine.cache.KvCacheManager;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Continuous batching with chunked prefill, as vLLM's v1 scheduler does it: every step spends a
 * token budget first on the running sequences (a decode needs one token, an unfinished prefill its
 * next chunk), then admits waiting sequences, each after a prefix-cache lookup, with a chunk of
 * whatever budget is left. A prompt longer than the budget is prefilled over several steps.
 *
 * <p>When the block pool cannot supply a running sequence, the most recently admitted running
 * sequence is <b>preempted by recompute</b>: its blocks are released (the full ones stay in the
 * prefix cache) and it goes back to the front of the waiting queue with all its tokens, so on
 * re-admission it recomputes only what was evicted meanwhile. No sequence is admitted in a step that
 * preempted.
 *
 * <p>Paused sequences (their consumer has no credit) are skipped but keep their place and blocks.
 *
 * <p>A sequence that may be prefilled remotely is admitted with blocks for its whole prompt; if the
 * {@link RemoteGate} sends it to a prefill worker it waits in {@code awaitingKv}, holding its blocks
 * (never preempted: a remote writer targets them) and counting against {@code max_num_seqs}, until
 * {@link #resumeAfterRemote} puts it among the running ones.
 * Pure bookkeeping, no model and no threads: the engine thread calls it.
 */
final class Scheduler {
    private final KvCacheManager kv;
    private final int tokenBudget;
    private final int maxRunning;
    private final ArrayDeque<EngineSequence> waiting = new ArrayDeque<>();
    private final List<EngineSequence> running = new ArrayList<>();
    private final List<EngineSequence> awaitingKv = new ArrayList<>();
    private final RemoteGate remoteGate;
    private long preemptions;

    /** Decides, once a sequence's whole prompt has blocks, whether a prefill worker computes it. */
    @FunctionalInterface
    interface RemoteGate {
        boolean sendRemote(EngineSequence s);
    }

    private final Consumer<EngineSequence> beforePreemption;

    /**
     * @param tokenBudget      tokens computed per step at most ({@code max_num_batched_tokens})
     * @param maxRunning       sequences holding blocks at most ({@code max_num_seqs})
     * @param remoteGate       whether an admitted sequence's prompt is prefilled remotely
     * @param beforePreemption runs before a preempted sequence's blocks are released (its KV exports must stop
     *                         reading them)
     */
    Scheduler(KvCacheManager kv, int tokenBudget, int maxRunning, RemoteGate remoteGate,
              Consumer<EngineSequence> beforePreemption) {
        if (tokenBudget < 1) throw new IllegalArgumentException("token budget must be >= 1, got " + tokenBudget);
        if (maxRunning < 1) throw new IllegalArgumentException("max running sequences must be >= 1, got " + maxRunning);
        this.kv = kv;
        this.tokenBudget = tokenBudget;
        this.maxRunning = maxRunning;
        this.remoteGate = remoteGate;
        this.beforePreemption = beforePreemption;
    }

    void add(EngineSequence s) {
        waiting.addLast(s);
    }

    /** The chunks of the next step, in batch order (running first, then newly admitted). Empty when nothing can run. */
    List<ScheduledChunk> schedule() {
        List<ScheduledChunk> chunks = new ArrayList<>();
        int budget = tokenBudget;
        boolean preempted = false;
        for (int i = 0; i < running.size() && budget > 0; i++) {
            EngineSequence s = running.get(i);
            if (s.paused()) continue;
            int n = Math.min(s.kv().uncomputedTokens(), budget);
            if (n == 0) continue;
            boolean stillRunning = true;
            while (!kv.allocateFor(s.kv(), n)) {
                EngineSequence victim = running.getLast(); // the most recently admitted
                preempt(victim);
                preempted = true;
                if (victim == s) {
                    stillRunning = false;
                    break;
                }
            }
            if (!stillRunning) break; // s was the last running sequence: nothing after it to schedule
            chunks.add(new ScheduledChunk(s, s.kv().computedTokens(), n));
            budget -= n;
        }
        if (preempted) return chunks;
        for (Iterator<EngineSequence> it = waiting.iterator(); it.hasNext() && budget > 0 && holding() < maxRunning; ) {
            EngineSequence s = it.next();
            if (s.paused()) continue;
            if (s.kv().blockCount() == 0) kv.longestCachedPrefix(s.kv());
            int n = Math.min(s.kv().uncomputedTokens(), budget);
            // a possible remote prefill reserves the whole prompt: the prefill worker writes all of it at once
            int reserve = s.remote() != null ? s.kv().uncomputedTokens() : n;
            if (!kv.allocateFor(s.kv(), reserve)) {
                kv.release(s.kv()); // give back the prefix hit; it stays cached and is looked up again next time
                break;              // first come, first served: nothing behind it is admitted either
            }
            it.remove();
            if (s.remote() != null && remoteGate.sendRemote(s)) {
                awaitingKv.add(s);
                continue;
            }
            running.add(s);
            chunks.add(new ScheduledChunk(s, s.kv().computedTokens(), n));
            budget -= n;
        }
        return chunks;
    }

    private void preempt(EngineSequence s) {
        beforePreemption.accept(s);
        running.remove(s);
        kv.release(s.kv());
        preemptions++;
        waiting.addFirst(s);
    }

    /** A sequence whose remote prefill ended (KV in place, or failed: then it prefills locally) runs from now on. */
    void resumeAfterRemote(EngineSequence s) {
        if (!awaitingKv.remove(s)) throw new IllegalStateException(s + " is not waiting for remote KV");
        running.add(s);
    }

    boolean isAwaitingKv(EngineSequence s) {
        return awaitingKv.contains(s);
    }

    /** Sequences waiting for a prefill worker's KV. */
    List<EngineSequence> awaitingKv() {
        return List.copyOf(awaitingKv);
    }

    /** Removes a sequence wherever it is and releases its blocks (finished, cancelled or failed). */
    void remove(EngineSequence s) {
        if (!running.remove(s) && !awaitingKv.remove(s)) waiting.remove(s);
        kv.release(s.kv());
    }

    /** The held sequences whose cancel was requested (usually none: nothing is allocated then). */
    List<EngineSequence> cancelled() {
        List<EngineSequence> out = null;
        for (EngineSequence s : running) if (s.cancelRequested()) (out == null ? out = new ArrayList<>() : out).add(s);
        for (EngineSequence s : waiting) if (s.cancelRequested()) (out == null ? out = new ArrayList<>() : out).add(s);
        return out == null ? List.of() : out;
    }

    /** Every sequence held, running first. */
    List<EngineSequence> all() {
        List<EngineSequence> out = new ArrayList<>(running);
        out.addAll(awaitingKv);
        out.addAll(waiting);
        return out;
    }

    /** Sequences holding blocks: running plus awaiting remote KV. */
    int runningCount() {
        return holding();
    }

    private int holding() {
        return running.size() + awaitingKv.size();
    }

    int waitingCount() {
        return waiting.size();
    }

    boolean isEmpty() {
        return running.isEmpty() && waiting.isEmpty() && awaitingKv.isEmpty();
    }

    long preemptions() {
        return preemptions;
    }
}
