package io.tandem.gateway.slo;

import io.tandem.protocol.WorkerLoad;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * This gateway's model of one worker's prefill queue, for TTFT prediction: the prompts it sent there whose first token
 * has not come, grouped into the engine steps that compute them, and when the step in progress should end.
 *
 * <p>Why not the worker's own report alone: it is a heartbeat old, misses the prompts sent since, and cannot say how
 * much of the step in progress is left — averaged as half a decode step, a burst that arrives during a large prefill
 * step was predicted up to 3× too early. Here the gateway knows: a prompt sent to an idle worker starts a step that
 * ends when {@link TtftPredictor} says; prompts sent while it runs join the next step (the engine's scheduler computes
 * everything waiting in one step, up to its chunk budget), which starts when the first token of the one in progress
 * comes back. Prompts of other gateways are the worker's reported queue beyond this gateway's own, added to the next
 * step. Not thread-safe: the dispatcher's event loop owns it.
 */
public final class PrefillQueue {
    /** A sent prompt: its uncached tokens and the serial of the step that computes it. */
    private record Pending(long tokens, long step) {}

    private final TtftPredictor predictor;
    private final Map<String, Pending> pending = new HashMap<>();
    /** Serial of the step in progress (the one that computes the prompts with this serial). */
    private long step;
    /** When the step in progress should end (nanoTime), while one of its prompts is pending. */
    private long stepEndNanos;
    /** The last report's rates: a step started by a first token is predicted with them. */
    private WorkerLoad lastLoad;
    /** Uncached prompt tokens sent here, decayed with {@link #ARRIVAL_WINDOW_NANOS}: their arrival rate. */
    private double recentTokens;
    private long lastSentNanos;
    /** Whether anything was sent yet (nanoTime may be any value, 0 and negative included: no sentinel). */
    private boolean sentAny;
    /**
     * Time constant of the arrival rate: about the last 300 ms of sends count. A second reacted too slowly to the start
     * of a burst: under twice the capacity only 33–62 % of the admitted requests met their TTFT objective, with 300 ms
     * 55–69 % (SloAdmissionTest, docs/SLO.md).
     */
    static final long ARRIVAL_WINDOW_NANOS = 300_000_000L;

    public PrefillQueue(TtftPredictor predictor) {
        this.predictor = predictor;
    }

    /**
     * The TTFT a prompt with {@code uncachedTokens} tokens not cached on the worker would get if sent now, in ms;
     * empty while the worker has not measured its rates.
     */
    public OptionalDouble predictMillis(WorkerLoad load, long uncachedTokens, long nowNanos) {
        if (load == null || !load.measured()) return OptionalDouble.empty();
        long others = Math.max(0, load.queuedPromptTokens() - pendingTokens());
        if (!stepInProgress()) return predictor.predictMillis(load, others, uncachedTokens);
        double remaining = Math.max(0, stepEndNanos - nowNanos) / 1e6;
        // prompts that arrive before the step in progress ends join the next step too, ahead of nobody but computed with
        // it: expect as many as the recent arrival rate brings in the time left
        long joining = Math.round(arrivalTokensPerMilli(nowNanos) * remaining);
        return OptionalDouble.of(remaining
                + predictor.stepMillis(load, tokens(step + 1) + others + Math.max(1, uncachedTokens) + joining));
    }

    /** The prompt {@code key} with {@code uncachedTokens} uncached tokens was sent now; returns its predicted TTFT. */
    public OptionalDouble sent(String key, WorkerLoad load, long uncachedTokens, long nowNanos) {
        OptionalDouble ttft = predictMillis(load, uncachedTokens, nowNanos);
        if (load != null && load.measured()) lastLoad = load;
        long tokens = Math.max(1, uncachedTokens);
        recentTokens = decayed(nowNanos) + tokens;
        lastSentNanos = nowNanos;
        sentAny = true;
        if (stepInProgress()) {
            pending.put(key, new Pending(tokens, step + 1));
        } else {
            step++;
            pending.put(key, new Pending(tokens, step));
            stepEndNanos = nowNanos + (ttft.isPresent() ? Math.round(ttft.getAsDouble() * 1e6) : 0);
        }
        return ttft;
    }

    /**
     * The first token of {@code key} came back, or it ended without one (refused, failed, cancelled): its prompt is no
     * longer ahead of anyone. When it was the last of the step in progress, that step is over and the next one (the
     * prompts sent meanwhile) starts now.
     */
    public void done(String key, long nowNanos) {
        Pending p = pending.remove(key);
        if (p == null) return;
        if (p.step() > step) step = p.step(); // the engine ran ahead of the model: it computed the next step already
        if (p.step() < step || stepInProgress()) return;
        long next = tokens(step + 1);
        if (next == 0) return;
        step++;
        double ms = lastLoad == null ? 0 : predictor.stepMillis(lastLoad, next);
        stepEndNanos = nowNanos + Math.round(ms * 1e6);
    }

    private double decayed(long nowNanos) {
        if (!sentAny) return 0;
        return recentTokens * Math.exp(-Math.max(0, nowNanos - lastSentNanos) / (double) ARRIVAL_WINDOW_NANOS);
    }

    /** Uncached prompt tokens per millisecond sent here lately. */
    private double arrivalTokensPerMilli(long nowNanos) {
        return decayed(nowNanos) / (ARRIVAL_WINDOW_NANOS / 1e6);
    }

    /** Uncached prompt tokens sent and not answered yet. */
    public long pendingTokens() {
        long n = 0;
        for (Pending p : pending.values()) n += p.tokens();
        return n;
    }

    public boolean isEmpty() {
        return pending.isEmpty();
    }

    private boolean stepInProgress() {
        for (Pending p : pending.values()) if (p.step() == step) return true;
        return false;
    }

    private long tokens(long serial) {
        long n = 0;
        for (Pending p : pending.values()) if (p.step() == serial) n += p.tokens();
        return n;
    }
}
