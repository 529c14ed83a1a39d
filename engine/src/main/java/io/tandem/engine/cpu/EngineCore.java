package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.ForwardResult;
import io.tandem.engine.forward.SequenceSpan;
import io.tandem.engine.forward.Transformer;
import io.tandem.engine.kv.KvCache;
import io.tandem.engine.sample.Sample;
import io.tandem.engine.sample.Sampler;
import io.tandem.engine.sample.StopCondition;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;

import java.util.ArrayList;
import java.util.List;

/**
 * One engine step at a time, on the caller's thread: schedule, run the model on the batch, sample,
 * deliver tokens, free what finished. {@link CpuEngine} drives it from its own thread; tests drive
 * it directly, step by step, so batching and preemption are deterministic.
 *
 * <p>Every way out of the engine — finished, cancelled, failed — releases the sequence's blocks
 * before its sink hears about it.
 */
final class EngineCore {
    private static final System.Logger LOG = System.getLogger(EngineCore.class.getName());

    private final Transformer model;
    private final KvCache cache;
    private final KvCacheManager kv;
    private final Scheduler scheduler;
    private final Sampler sampler;
    private final int[] endOfGenerationIds;
    private final int contextLength;
    private long steps, computedTokens;

    EngineCore(Transformer model, KvCache cache, KvCacheManager kv, Scheduler scheduler, int[] endOfGenerationIds) {
        this.model = model;
        this.cache = cache;
        this.kv = kv;
        this.scheduler = scheduler;
        this.sampler = new Sampler(model.config().vocabSize());
        this.endOfGenerationIds = endOfGenerationIds.clone();
        this.contextLength = model.config().contextLength();
    }

    /** A sequence for a validated request, not yet queued. Safe on any thread (it touches no shared state). */
    EngineSequence newSequence(EngineRequest request, TokenSink sink) {
        StopCondition stop = new StopCondition(request.sampling(), endOfGenerationIds, request.promptTokens().length,
                contextLength);
        return new EngineSequence(request, sink, kv.newSequence(request.requestId(), request.promptTokens()), stop);
    }

    /** Queues a sequence for scheduling. */
    void add(EngineSequence s) {
        scheduler.add(s);
    }

    /** Creates and queues a sequence (tests drive the core this way). */
    EngineSequence add(EngineRequest request, TokenSink sink) {
        EngineSequence s = newSequence(request, sink);
        add(s);
        return s;
    }

    /**
     * Runs one step. Returns false, doing nothing, when no sequence can run (none held, or all paused).
     */
    boolean step() {
        reapCancelled();
        List<ScheduledChunk> chunks = scheduler.schedule();
        if (chunks.isEmpty()) {
            kv.flushEvents();
            return false;
        }
        List<SequenceSpan> spans = new ArrayList<>(chunks.size());
        for (ScheduledChunk c : chunks) {
            int[] tokens = c.sequence().kv().tokens(c.startPosition(), c.startPosition() + c.tokens());
            spans.add(new SequenceSpan(tokens, c.startPosition(), c.sequence().kv().blockTable(),
                    c.samples() ? SequenceSpan.Logits.LAST : SequenceSpan.Logits.NONE));
            computedTokens += c.tokens();
        }
        ForwardResult result;
        try {
            result = model.forward(new Batch(spans), cache);
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
        kv.flushEvents();
        return true;
    }

    private void sampleNext(EngineSequence s, ForwardResult result, int span) {
        try {
            Sample sample = sampler.sample(result.array(), result.offset(span, 0), s.sampling());
            StopCondition.Decision d = s.stop().check(sample.token(), s.sampling().generated());
            if (d.emitToken()) {
                s.emitted();
                s.sink().onToken(sample.token(), sample.logprobs());
            }
            if (d.finished()) finish(s, d.reason());
            else s.kv().appendToken(sample.token());
        } catch (RuntimeException e) {
            fail(s, ErrorCode.INTERNAL, "sampling or the token sink failed: " + e);
        }
    }

    private void reapCancelled() {
        for (EngineSequence s : scheduler.cancelled()) finish(s, FinishReason.CANCELLED);
    }

    void finish(EngineSequence s, FinishReason reason) {
        scheduler.remove(s);
        if (!s.markDone()) return;
        try {
            s.sink().onFinished(reason, s.usage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "token sink of " + s.id() + " threw on finish", e);
        }
    }

    void fail(EngineSequence s, ErrorCode code, String message) {
        scheduler.remove(s);
        if (!s.markDone()) return;
        try {
            s.sink().onFailed(code, message);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "token sink of " + s.id() + " threw on failure", e);
        }
    }

    /** Fails every held sequence (shutdown). */
    void failAll(ErrorCode code, String message) {
        for (EngineSequence s : scheduler.all()) fail(s, code, message);
        kv.flushEvents();
    }

    boolean hasWork() {
        return !scheduler.isEmpty();
    }

    Scheduler scheduler() {
        return scheduler;
    }

    KvCacheManager kv() {
        return kv;
    }

    Transformer model() {
        return model;
    }

    long steps() {
        return steps;
    }

    long computedTokens() {
        return computedTokens;
    }
}
