package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.LayerListener;
import io.tandem.engine.forward.SequenceSpan;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.KvReservation;
import io.tandem.engine.remote.SendStatus;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.engine.sample.Sample;
import io.tandem.engine.sample.StopCondition;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * One engine step at a time, on the caller's thread: schedule, run the model on the batch, sample,
 * deliver tokens, free what finished. {@link CpuEngine} drives it from its own thread; tests drive
 * it directly, step by step, so batching and preemption are deterministic.
 *
 * <p>Every way out of the engine — finished, cancelled, failed — releases the sequence's blocks
 * before its sink hears about it.
 *
 * <p>The engine thread never waits on the network. A prefill-only sequence (it has a {@link KvExport}) that sampled
 * its first token, or ended early while sends were in flight, leaves the batch and waits in the scheduler's
 * {@code sending} list with its blocks; its export is polled at the start of every step, after every layer of a forward
 * pass (so a long step does not hold back a finished send's first token) and whenever the export wakes the engine.
 * When the sends settle its blocks are released and its sink hears the outcome — the first token, or the failure.
 * Not before, even for a cancel: the decode worker reuses the blocks the sends write into once it hears the answer.
 */
final class EngineCore {
    private static final System.Logger LOG = System.getLogger(EngineCore.class.getName());

    private final ModelRunner model;
    private final KvCacheManager kv;
    private final Scheduler scheduler;
    private final int[] endOfGenerationIds;
    private final int contextLength;
    private final Runnable wakeup;
    private final LongSupplier nanoTime;
    private long steps, computedTokens, stepNanos;
    private volatile StepObserver stepObserver = StepObserver.NONE;
    private final ServiceRates rates = new ServiceRates();

    /**
     * @param budget   tokens per step, and how many of them prompts may take beside decodes
     * @param wakeup   wakes the thread driving this core when a prefill-only sequence's sends settle (any thread; must
     *                 not block)
     * @param nanoTime the clock that times steps for the budget's cost model ({@code System::nanoTime})
     */
    EngineCore(ModelRunner model, KvCacheManager kv, PrefillBudget budget, int maxRunning, int[] endOfGenerationIds,
               Runnable wakeup, LongSupplier nanoTime) {
        this.model = model;
        this.kv = kv;
        this.wakeup = wakeup;
        this.nanoTime = nanoTime;
        this.scheduler = new Scheduler(kv, budget, maxRunning, this::beginRemotePrefill);
        this.endOfGenerationIds = endOfGenerationIds.clone();
        this.contextLength = model.contextLength();
    }

    /** A sequence for a validated request, not yet queued. Safe on any thread (it touches no shared state). */
    EngineSequence newSequence(EngineRequest request, TokenSink sink) {
        StopCondition stop = new StopCondition(request.sampling(), endOfGenerationIds, request.promptTokens().length,
                contextLength);
        return new EngineSequence(request, sink, kv.newSequence(request.requestId(), request.contextTokens()), stop);
    }

    /** Queues a sequence for scheduling. */
    void add(EngineSequence s) {
        if (s.export() != null) s.export().onSettled(wakeup);
        scheduler.add(s);
    }

    /** Creates and queues a sequence (tests drive the core this way). */
    EngineSequence add(EngineRequest request, TokenSink sink) {
        EngineSequence s = newSequence(request, sink);
        add(s);
        return s;
    }

    /** The scheduler's gate: asks the request's {@code RemotePrefill} whether a prefill worker takes it. */
    private boolean beginRemotePrefill(EngineSequence s) {
        boolean remote;
        try {
            remote = s.remote().begin(new KvReservation(s.id(), s.request().promptTokens(), s.kv().blockTable(),
                    s.kv().computedTokens()));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "remote prefill of " + s.id() + " could not start; prefilling locally", e);
            remote = false;
        }
        if (!remote) s.setRemote(null);
        return remote;
    }

    /**
     * The prefill worker wrote the prompt's KV into the reserved blocks and sampled {@code token}: the sequence joins
     * the running batch as if it had prefilled here. Ignored for a sequence no longer waiting (it ended meanwhile).
     */
    void completeRemotePrefill(EngineSequence s, int token, TokenLogprobs logprobs) {
        if (!scheduler.isAwaitingKv(s)) return;
        if (s.cancelRequested()) {
            finish(s, FinishReason.CANCELLED);
            return;
        }
        s.setRemote(null);
        scheduler.resumeAfterRemote(s);
        kv.commitFullBlocks(s.kv(), s.kv().tokenCount());
        s.sampling().observe(token);
        deliver(s, token, logprobs);
        kv.flushEvents();
    }

    /** The remote prefill failed: prefill locally in the blocks already reserved (or end, if cancelled). */
    void failRemotePrefill(EngineSequence s, String reason) {
        if (!scheduler.isAwaitingKv(s)) return;
        if (s.cancelRequested()) {
            finish(s, FinishReason.CANCELLED);
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, "remote prefill of " + s.id() + " failed (" + reason + "); prefilling locally");
        s.setRemote(null);
        scheduler.resumeAfterRemote(s);
    }

    /**
     * Runs one step. Returns false, computing nothing, when no sequence can run (none held, all paused, or only
     * prefill-only sequences waiting for their sends).
     */
    boolean step() {
        reapCancelled();
        pollSends();
        List<ScheduledChunk> chunks = scheduler.schedule();
        if (chunks.isEmpty()) {
            kv.flushEvents();
            return false;
        }
        List<SequenceSpan> spans = new ArrayList<>(chunks.size());
        int stepTokens = 0, decodes = 0;
        for (ScheduledChunk c : chunks) {
            if (c.tokens() == 1 && c.sequence().emittedTokens() > 0) decodes++;
            int[] tokens = c.sequence().kv().tokens(c.startPosition(), c.startPosition() + c.tokens());
            spans.add(new SequenceSpan(tokens, c.startPosition(), c.sequence().kv().blockTable(),
                    c.samples() ? SequenceSpan.Logits.LAST : SequenceSpan.Logits.NONE));
            stepTokens += c.tokens();
        }
        computedTokens += stepTokens;
        long started = nanoTime.getAsLong();
        ModelRunner.StepOutput result;
        try {
            result = model.forward(new Batch(spans), layerListener(chunks, spans));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "forward pass failed for a batch of " + chunks.size() + " sequences", e);
            for (ScheduledChunk c : chunks) fail(c.sequence(), ErrorCode.INTERNAL, "the forward pass failed: " + e);
            kv.flushEvents();
            return true;
        }
        steps++;
        for (int i = 0; i < chunks.size(); i++) {
            ScheduledChunk c = chunks.get(i);
            EngineSequence s = c.sequence();
            kv.commitFullBlocks(s.kv(), c.startPosition() + c.tokens());
            if (c.samples()) sampleNext(s, result, i);
        }
        long took = nanoTime.getAsLong() - started; // forward pass, sampling and delivery: the streams' token gap
        scheduler.observeStep(stepTokens, took);
        rates.observe(stepTokens - decodes, decodes, took);
        stepObserver.stepped(stepTokens - decodes, decodes, took);
        stepNanos += took;
        kv.flushEvents();
        return true;
    }

    /**
     * After each layer: tells each prefill-only sequence of the batch that a layer of its KV is stored, so it goes out
     * at once, and settles the sequences whose sends finished meanwhile (none of them is in this batch).
     */
    private LayerListener layerListener(List<ScheduledChunk> chunks, List<SequenceSpan> spans) {
        List<Integer> exporting = null;
        for (int i = 0; i < chunks.size(); i++) {
            if (chunks.get(i).sequence().export() != null) (exporting == null ? exporting = new ArrayList<>() : exporting).add(i);
        }
        List<Integer> targets = exporting == null ? List.of() : exporting;
        return layer -> {
            for (int i : targets) { // the span's block table: the copy this step's forward pass reads
                ScheduledChunk c = chunks.get(i);
                c.sequence().export().layerStored(layer, spans.get(i).blockTable(), c.startPosition() + c.tokens());
            }
            pollSends();
        };
    }

    private void sampleNext(EngineSequence s, ModelRunner.StepOutput result, int span) {
        Sample sample;
        try {
            sample = result.sample(span, s.kv(), s.sampling());
        } catch (RuntimeException e) {
            fail(s, ErrorCode.INTERNAL, "sampling failed: " + e);
            return;
        }
        if (s.export() != null) {
            finishSends(s, sample);
        } else {
            deliver(s, sample.token(), sample.logprobs());
        }
    }

    /** Applies the stop rules to a sampled token and hands it to the sink. */
    private void deliver(EngineSequence s, int token, TokenLogprobs logprobs) {
        try {
            StopCondition.Decision d = s.stop().check(token, s.sampling().generated());
            if (d.emitToken()) {
                s.emitted();
                s.sink().onToken(token, logprobs);
            }
            if (d.finished()) finish(s, d.reason());
            else s.kv().appendToken(token);
        } catch (RuntimeException e) {
            fail(s, ErrorCode.INTERNAL, "the token sink failed: " + e);
        }
    }

    /** A prefill-only sequence computed its prompt: its first token goes out once its KV is at the decode worker. */
    private void finishSends(EngineSequence s, Sample sample) {
        try {
            s.export().finishSends();
        } catch (RuntimeException e) {
            fail(s, ErrorCode.INTERNAL, "KV transfer failed: " + e);
            return;
        }
        awaitSends(s, new Outcome.FirstToken(sample.token(), sample.logprobs()));
    }

    /** Out of the batch with its blocks until its sends settle; then it ends with {@code outcome} (or their failure). */
    private void awaitSends(EngineSequence s, Outcome outcome) {
        s.decideOutcome(outcome);
        scheduler.startSending(s);
        settleIfSent(s);
    }

    /** Settles every sequence whose sends finished. Cheap: a poll of each export, no wait. */
    private void pollSends() {
        if (!scheduler.hasSending()) return;
        for (EngineSequence s : scheduler.sending()) settleIfSent(s);
    }

    private void settleIfSent(EngineSequence s) {
        SendStatus status;
        try {
            status = s.export().poll();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "polling the KV sends of " + s.id() + " failed; releasing its blocks", e);
            status = new SendStatus.Failed("polling the sends failed: " + e);
        }
        if (status instanceof SendStatus.Pending) return;
        scheduler.remove(s); // nothing reads the blocks any more
        Outcome outcome = s.outcome();
        if (outcome instanceof Outcome.FirstToken && status instanceof SendStatus.Failed(String reason)) {
            outcome = new Outcome.Failed(ErrorCode.INTERNAL, "KV transfer failed: " + reason);
        }
        report(s, outcome);
    }

    private void reapCancelled() {
        for (EngineSequence s : scheduler.cancelled()) finish(s, FinishReason.CANCELLED);
        for (EngineSequence s : scheduler.sending()) {
            if (s.cancelRequested() && s.outcome() instanceof Outcome.FirstToken) finish(s, FinishReason.CANCELLED);
        }
        for (EngineSequence s : scheduler.awaitingKv()) {
            if (s.cancelRequested() && s.markRemoteCancelSent()) {
                try {
                    s.remote().cancel(s.id());
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "telling the prefill worker about the cancel of " + s.id() + " failed", e);
                }
            }
        }
    }

    void finish(EngineSequence s, FinishReason reason) {
        end(s, new Outcome.Finished(reason));
    }

    void fail(EngineSequence s, ErrorCode code, String message) {
        end(s, new Outcome.Failed(code, message));
    }

    /**
     * Ends a sequence: releases its blocks and tells its sink. A prefill-only sequence posts nothing more and is
     * released and told only once the sends already posted settle.
     */
    private void end(EngineSequence s, Outcome outcome) {
        if (s.done()) return; // already released and told
        KvExport export = s.export();
        if (export != null) {
            try {
                export.cancel();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "cancelling the KV sends of " + s.id() + " failed", e);
            }
            awaitSends(s, outcome);
            return;
        }
        scheduler.remove(s);
        report(s, outcome);
    }

    /** Tells the sink how the sequence ended: exactly one terminal callback. Its blocks are already released. */
    private void report(EngineSequence s, Outcome outcome) {
        if (!s.markDone()) return;
        try {
            switch (outcome) {
                case Outcome.FirstToken t -> {
                    try {
                        s.emitted();
                        s.sink().onToken(t.token(), t.logprobs());
                    } catch (RuntimeException e) {
                        s.sink().onFailed(ErrorCode.INTERNAL, "the token sink failed: " + e);
                        return;
                    }
                    s.sink().onFinished(FinishReason.LENGTH, s.usage());
                }
                case Outcome.Finished f -> s.sink().onFinished(f.reason(), s.usage());
                case Outcome.Failed f -> s.sink().onFailed(f.code(), f.message());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "token sink of " + s.id() + " threw on its terminal callback", e);
        }
    }

    /** Fails every held sequence (shutdown). */
    void failAll(ErrorCode code, String message) {
        for (EngineSequence s : scheduler.all()) fail(s, code, message);
        kv.flushEvents();
    }

    /** Whether any sequence is held, including prefill-only ones waiting for their sends. */
    boolean hasWork() {
        return !scheduler.isEmpty();
    }

    /** Whether prefill-only sequences still wait for their sends (they hold blocks). */
    boolean hasSending() {
        return scheduler.hasSending();
    }

    /** Settles what it can of the sequences waiting for their sends, outside a step (an engine closing). */
    void settleSends() {
        pollSends();
        kv.flushEvents();
    }

    /**
     * Gives up on sends that did not settle (an engine closing after its wait): releases their blocks and fails their
     * requests, so none is left without an answer.
     */
    void abandonSends(String reason) {
        for (EngineSequence s : scheduler.sending()) {
            scheduler.remove(s);
            report(s, s.outcome() instanceof Outcome.FirstToken ? new Outcome.Failed(ErrorCode.UNAVAILABLE, reason) : s.outcome());
        }
        kv.flushEvents();
    }

    int sendingCount() {
        return scheduler.sendingCount();
    }

    Scheduler scheduler() {
        return scheduler;
    }

    KvCacheManager kv() {
        return kv;
    }

    /** The measured decode step time and prefill rate. */
    ServiceRates rates() {
        return rates;
    }

    long steps() {
        return steps;
    }

    /** Tells {@code observer} of every step from the next one on ({@link StepObserver#NONE} to stop). */
    void observeSteps(StepObserver observer) {
        stepObserver = java.util.Objects.requireNonNull(observer, "observer");
    }

    long computedTokens() {
        return computedTokens;
    }

    /** Time spent in computed steps (forward pass, sampling, delivery). */
    long stepNanos() {
        return stepNanos;
    }
}
