package io.tandem.engine.cpu;

import io.tandem.engine.cache.KvCacheManager;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Continuous batching with chunked prefill, as vLLM's v1 scheduler does it: every step spends a
 * token budget first on the running sequences (a decode needs one token, an unfinished prefill its
 * next chunk), then admits waiting sequences, each after a prefix-cache lookup, with a chunk of
 * whatever budget is left. A prompt longer than the budget is prefilled over several steps.
 *
 * <p><b>Decode first.</b> Every decode of the step gets its token; the prompt tokens (chunks of running prefills, then
 * of admitted sequences, oldest first) share what the {@link PrefillBudget} allows beside that many decodes — in a
 * step holding decodes, only what keeps the step within its latency target, so a long prompt does not stall every
 * running stream.
 *
 * <p>When the block pool cannot supply a running sequence, the most recently admitted running
 * sequence (not a prefill-only one, see below) is <b>preempted by recompute</b>: its blocks are
 * released (the full ones stay in the prefix cache) and it goes back to the front of the waiting
 * queue with all its tokens, so on re-admission it recomputes only what was evicted meanwhile. No
 * sequence is admitted in a step that preempted.
 *
 * <p>Paused sequences (their consumer has no credit) are skipped but keep their place and blocks.
 *
 * <p>A sequence that may be prefilled remotely is admitted with blocks for its whole prompt; if the
 * {@link RemoteGate} sends it to a prefill worker it waits in {@code awaitingKv}, holding its blocks
 * (never preempted: a remote writer targets them) and counting against {@code max_num_seqs}, until
 * {@link #resumeAfterRemote} puts it among the running ones.
 *
 * <p>A <b>prefill-only</b> sequence (the prefill side of a remote prefill, it has a {@code KvExport}) is also admitted
 * with blocks for its whole prompt, and is never preempted: its KV sends read its blocks while it computes, and it
 * needs no block after admission, so it always runs to its end. Once it has sampled its first token (or ended early
 * with sends in flight) it moves to {@code sending}: it keeps its blocks until its sends settle, but takes no token
 * budget, is never scheduled again and does not count against {@code max_num_seqs} — that limit bounds the batch a
 * step computes, and a sequence waiting on the network computes nothing; the block pool bounds the memory it holds,
 * and the engine's request limit bounds how many there are (as vLLM's finished requests wait for their sends outside
 * the running queue).
 *
 * <p>Pure bookkeeping, no model and no threads: the engine thread calls it.
 */
final class Scheduler {
    private final KvCacheManager kv;
    private final PrefillBudget budget;
    private final int maxRunning;
    private final ArrayDeque<EngineSequence> waiting = new ArrayDeque<>();
    private final List<EngineSequence> running = new ArrayList<>();
    private final List<EngineSequence> awaitingKv = new ArrayList<>();
    private final List<EngineSequence> sending = new ArrayList<>();
    private final RemoteGate remoteGate;
    private long preemptions;

    /** Decides, once a sequence's whole prompt has blocks, whether a prefill worker computes it. */
    @FunctionalInterface
    interface RemoteGate {
        boolean sendRemote(EngineSequence s);
    }

    /**
     * @param budget     tokens computed per step at most ({@code max_num_batched_tokens}), and how many of them prompts
     *                   may take beside decodes
     * @param maxRunning sequences in the batch at most ({@code max_num_seqs}): running plus awaiting remote KV
     * @param remoteGate whether an admitted sequence's prompt is prefilled remotely
     */
    Scheduler(KvCacheManager kv, PrefillBudget budget, int maxRunning, RemoteGate remoteGate) {
        if (maxRunning < 1) throw new IllegalArgumentException("max running sequences must be >= 1, got " + maxRunning);
        this.kv = kv;
        this.budget = budget;
        this.maxRunning = maxRunning;
        this.remoteGate = remoteGate;
    }

    void add(EngineSequence s) {
        waiting.addLast(s);
    }

    /** The chunks of the next step, in batch order (running first, then newly admitted). Empty when nothing can run. */
    List<ScheduledChunk> schedule() {
        List<ScheduledChunk> chunks = new ArrayList<>();
        int tokens = budget.maxNumBatchedTokens();
        int prefill = budget.prefillTokens(decodes()); // never more than the decodes leave of the tokens
        boolean preempted = false;
        for (int i = 0; i < running.size() && tokens > 0; ) {
            EngineSequence s = running.get(i);
            boolean decode = isDecode(s);
            int n = s.paused() ? 0 : decode ? 1 : Math.min(s.kv().uncomputedTokens(), Math.min(tokens, prefill));
            if (n == 0) {
                i++;
                continue;
            }
            boolean preemptedItself = false;
            while (!preemptedItself && !kv.allocateFor(s.kv(), n)) {
                EngineSequence victim = victimFrom(i);
                preempt(victim);
                preempted = true;
                preemptedItself = victim == s;
            }
            if (preemptedItself) continue; // the sequence after s (prefill-only ones may follow) is now at i
            chunks.add(new ScheduledChunk(s, s.kv().computedTokens(), n));
            tokens -= n;
            if (!decode) prefill -= n;
            i++;
        }
        if (preempted) return chunks;
        int admit = Math.min(tokens, prefill);
        for (Iterator<EngineSequence> it = waiting.iterator(); it.hasNext() && admit > 0 && holding() < maxRunning; ) {
            EngineSequence s = it.next();
            if (s.paused()) continue;
            if (s.kv().blockCount() == 0) kv.longestCachedPrefix(s.kv());
            int n = Math.min(s.kv().uncomputedTokens(), admit);
            // a possible remote prefill reserves the whole prompt (the prefill worker writes all of it at once), and so
            // does a prefill-only sequence (never preempted, it must not need a block later)
            int reserve = s.remote() != null || s.export() != null ? s.kv().uncomputedTokens() : n;
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
            admit -= n;
        }
        return chunks;
    }

    /** A running sequence that streams: it has sent a token and needs one more computed for the next. */
    private static boolean isDecode(EngineSequence s) {
        return s.kv().uncomputedTokens() == 1 && s.emittedTokens() > 0;
    }

    /** The decodes the next step holds: the running streams not paused. */
    private int decodes() {
        int n = 0;
        for (EngineSequence s : running) if (!s.paused() && isDecode(s)) n++;
        return n;
    }

    /** Records a computed step of {@code tokens} tokens that took {@code nanos} (the prefill budget learns from it). */
    void observeStep(int tokens, long nanos) {
        budget.observe(tokens, nanos);
    }

    PrefillBudget budget() {
        return budget;
    }

    /**
     * The most recently admitted running sequence at or after {@code from} that may be preempted: not a prefill-only
     * one. The sequence at {@code from} needs blocks, so it is not prefill-only (those hold their whole prompt) and is
     * the victim at worst.
     */
    private EngineSequence victimFrom(int from) {
        for (int j = running.size() - 1; j >= from; j--) {
            if (running.get(j).export() == null) return running.get(j);
        }
        throw new IllegalStateException(running.get(from) + " needs blocks but holds its whole prompt");
    }

    private void preempt(EngineSequence s) {
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

    /**
     * A prefill-only sequence leaves the batch (or the queue) to wait for its KV sends, keeping its blocks.
     * Idempotent.
     */
    void startSending(EngineSequence s) {
        if (sending.contains(s)) return;
        if (!running.remove(s) && !awaitingKv.remove(s)) waiting.remove(s);
        sending.add(s);
    }

    /** Prefill-only sequences out of the batch whose KV sends have not settled, oldest first. */
    List<EngineSequence> sending() {
        return List.copyOf(sending);
    }

    boolean hasSending() {
        return !sending.isEmpty();
    }

    /** Removes a sequence wherever it is and releases its blocks (finished, cancelled or failed). */
    void remove(EngineSequence s) {
        if (!running.remove(s) && !awaitingKv.remove(s) && !sending.remove(s)) waiting.remove(s);
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
        out.addAll(sending);
        out.addAll(waiting);
        return out;
    }

    /** Sequences in the batch: running plus awaiting remote KV (not those only waiting for their sends). */
    int runningCount() {
        return holding();
    }

    private int holding() {
        return running.size() + awaitingKv.size();
    }

    /** Prompt tokens held and not yet computed: waiting sequences and running ones still prefilling. */
    long queuedPromptTokens() {
        long n = 0;
        for (EngineSequence s : running) if (s.emittedTokens() == 0) n += s.kv().uncomputedTokens();
        for (EngineSequence s : waiting) n += s.kv().uncomputedTokens();
        return n;
    }

    int waitingCount() {
        return waiting.size();
    }

    int sendingCount() {
        return sending.size();
    }

    boolean isEmpty() {
        return running.isEmpty() && waiting.isEmpty() && awaitingKv.isEmpty() && sending.isEmpty();
    }

    long preemptions() {
        return preemptions;
    }
}
