package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.ForwardResult;
import io.tandem.engine.forward.LayerListener;
import io.tandem.engine.forward.SequenceSpan;
import io.tandem.engine.forward.Transformer;
import io.tandem.engine.kv.KvCache;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.KvReservation;
import io.tandem.protocol.TokenLogprobs;
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

    EngineCore(Transformer model, KvCache cache, KvCacheManager kv, int tokenBudget, int maxRunning,
               int[] endOfGenerationIds) {
        this.model = model;
        this.cache = cache;
        this.kv = kv;
        this.scheduler = new Scheduler(kv, tokenBudget, maxRunning, this::beginRemotePrefill, EngineCore::drainExport);
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
            result = model.forward(new Batch(spans), cache, exportListener(chunks, spans));
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

    /** Tells each prefill-only sequence of the batch when a layer of its KV is stored, so it goes out at once. */
    private static LayerListener exportListener(List<ScheduledChunk> chunks, List<SequenceSpan> spans) {
        List<Integer> exporting = null;
        for (int i = 0; i < chunks.size(); i++) {
            if (chunks.get(i).sequence().export() != null) (exporting == null ? exporting = new ArrayList<>() : exporting).add(i);
        }
        if (exporting == null) return LayerListener.NONE;
        List<Integer> targets = exporting;
        return layer -> {
            for (int i : targets) { // the span's block table: the copy this step's forward pass reads
                ScheduledChunk c = chunks.get(i);
                c.sequence().export().layerStored(layer, spans.get(i).blockTable(), c.startPosition() + c.tokens());
            }
        };
    }

    private void sampleNext(EngineSequence s, ForwardResult result, int span) {
        Sample sample;
        try {
            sample = sampler.sample(result.array(), result.offset(span, 0), s.sampling());
        } catch (RuntimeException e) {
            fail(s, ErrorCode.INTERNAL, "sampling failed: " + e);
            return;
        }
        if (s.export() != null) deliverPrefilled(s, sample);
        else deliver(s, sample.token(), sample.logprobs());
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

    /** A prefill-only sequence: once its KV is at the decode worker, the first token goes out and it ends. */
    private void deliverPrefilled(EngineSequence s, Sample sample) {
        try {
            s.export().awaitTransfers();
        } catch (Exception e) {
            fail(s, ErrorCode.INTERNAL, "KV transfer failed: " + e.getMessage());
            return;
        }
        try {
            s.emitted();
            s.sink().onToken(sample.token(), sample.logprobs());
            finish(s, FinishReason.LENGTH);
        } catch (RuntimeException e) {
            fail(s, ErrorCode.INTERNAL, "the token sink failed: " + e);
        }
    }

    private void reapCancelled() {
        for (EngineSequence s : scheduler.cancelled()) finish(s, FinishReason.CANCELLED);
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

    /** Before a prefill-only sequence's blocks go back to the pool, its transfers must stop reading them. */
    private static void drainExport(EngineSequence s) {
        KvExport export = s.export();
        if (export == null) return;
        try {
            export.awaitTransfers();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "transfers of " + s.id() + " ended with an error", e);
        }
    }

    void finish(EngineSequence s, FinishReason reason) {
        drainExport(s);
        scheduler.remove(s);
        if (!s.markDone()) return;
        try {
            s.sink().onFinished(reason, s.usage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "token sink of " + s.id() + " threw on finish", e);
        }
    }

    void fail(EngineSequence s, ErrorCode code, String message) {
        drainExport(s);
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
