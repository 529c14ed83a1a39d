package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.KvSequence;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.RemotePrefill;
import io.tandem.engine.sample.SequenceSampling;
import io.tandem.engine.sample.StopCondition;
import io.tandem.protocol.Usage;

/**
 * One request inside the CPU engine: its tokens and blocks ({@link KvSequence}), its sampling
 * state and stop rule, and where its output goes. Owned by the engine thread, except the two
 * flags other threads set ({@link #requestCancel}, {@link #setPaused}).
 */
final class EngineSequence {
    private final EngineRequest request;
    private final TokenSink sink;
    private final KvSequence kv;
    private final SequenceSampling sampling;
    private final StopCondition stop;
    private volatile boolean cancelRequested;
    private volatile boolean paused;
    private int emitted;
    private boolean done;
    private RemotePrefill remote;
    private KvExport export;
    private boolean remoteCancelSent;
    private Outcome outcome;

    EngineSequence(EngineRequest request, TokenSink sink, KvSequence kv, StopCondition stop) {
        this.request = request;
        this.sink = sink;
        this.kv = kv;
        this.sampling = new SequenceSampling(request.sampling());
        this.stop = stop;
        // a migrated request continues where it stopped: same penalties, same position in the seeded random stream
        for (int token : request.resumedTokens()) sampling.observe(token);
        this.emitted = request.resumedTokens().length;
    }

    String id() {
        return request.requestId();
    }

    EngineRequest request() {
        return request;
    }

    TokenSink sink() {
        return sink;
    }

    KvSequence kv() {
        return kv;
    }

    SequenceSampling sampling() {
        return sampling;
    }

    StopCondition stop() {
        return stop;
    }

    /** The decode side of a possible remote prefill, or null (local prefill). */
    RemotePrefill remote() {
        return remote;
    }

    void setRemote(RemotePrefill remote) {
        this.remote = remote;
    }

    /** Where this prefill-only sequence's KV goes, or null for an ordinary request. */
    KvExport export() {
        return export;
    }

    void setExport(KvExport export) {
        this.export = export;
    }

    /**
     * How a prefill-only sequence that left the batch ends once its KV sends settle (null while it is in the batch).
     */
    Outcome outcome() {
        return outcome;
    }

    /**
     * Decides how the sequence ends. The first decision stands, except that a first token waiting for its sends gives
     * way to a cancel or a failure.
     */
    void decideOutcome(Outcome o) {
        if (outcome == null || outcome instanceof Outcome.FirstToken) outcome = o;
    }

    /** True the first time only: the prefill worker is told about a cancel once. */
    boolean markRemoteCancelSent() {
        if (remoteCancelSent) return false;
        remoteCancelSent = true;
        return true;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    void setPaused(boolean paused) {
        this.paused = paused;
    }

    boolean paused() {
        return paused;
    }

    /** Counts a token the sink received. */
    void emitted() {
        emitted++;
    }

    int emittedTokens() {
        return emitted;
    }

    /** Marks the terminal callback as delivered; false if it already was (exactly one terminal call). */
    boolean markDone() {
        if (done) return false;
        done = true;
        return true;
    }

    /** Whether the terminal callback was delivered. */
    boolean done() {
        return done;
    }

    /** Prompt and completion as the client counts them (a resumed request's earlier tokens are completion tokens). */
    Usage usage() {
        return new Usage(request.promptTokens().length, emitted, Math.min(kv.cachedTokens(), request.promptTokens().length));
    }

    @Override
    public String toString() {
        return "EngineSequence[" + id() + ", " + kv + (paused ? ", paused" : "") + "]";
    }
}
