package io.tandem.engine.sim;

import io.tandem.engine.EngineInfo;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The simulated engine's continuous batch, run on its one thread. Each step admits waiting
 * requests while the batch has room (their prefill is part of the step and yields their first
 * token), advances every running, un-paused sequence by one token, and takes the time the
 * {@link SimConfig} models for that work. Paused sequences keep their place and blocks.
 */
final class SimScheduler implements Runnable {
    private final SimulatedEngine engine;
    private final SimConfig config;
    private final SimTokenSource tokens;
    private final EngineInfo info;
    private final SimClock clock;
    private final ArrayDeque<SimSequence> waiting = new ArrayDeque<>();
    private final List<SimSequence> running = new ArrayList<>();

    SimScheduler(SimulatedEngine engine, SimConfig config, SimTokenSource tokens, EngineInfo info, SimClock clock) {
        this.engine = engine;
        this.config = config;
        this.tokens = tokens;
        this.info = info;
        this.clock = clock;
    }

    @Override
    public void run() {
        long deadline = clock.nanoTime();
        try {
            while (!engine.isClosed()) {
                takeNewRequests();
                dropCancelled();
                List<SimSequence> decode = runnable();
                List<SimSequence> prefill = admit();
                publishLoad();
                if (prefill.isEmpty() && decode.isEmpty()) {
                    LockSupport.park(this); // woken by submit, cancel, resume, close
                    continue;
                }
                int prefillTokens = 0;
                for (SimSequence s : prefill) prefillTokens += s.contextTokens();
                long decodeContext = 0;
                for (SimSequence s : decode) decodeContext += s.contextTokens();
                deadline = Math.max(deadline, clock.nanoTime()) + config.stepNanos(prefillTokens, decode.size(), decodeContext);
                clock.sleepUntil(deadline, engine::isClosed);
                if (engine.isClosed()) break;
                for (SimSequence s : prefill) step(s);
                for (SimSequence s : decode) step(s);
                publishLoad();
            }
        } catch (Throwable t) {
            System.getLogger(SimScheduler.class.getName()).log(System.Logger.Level.ERROR, "simulated engine crashed", t);
        } finally {
            waiting.clear();
            running.clear();
            engine.failAll();
        }
    }

    private void takeNewRequests() {
        SimSequence s;
        while ((s = engine.inbox.poll()) != null) waiting.add(s);
    }

    private void dropCancelled() {
        for (Iterator<SimSequence> it = waiting.iterator(); it.hasNext(); ) {
            SimSequence s = it.next();
            if (s.cancelRequested) {
                it.remove();
                engine.waitingCount.decrementAndGet();
                engine.finish(s, FinishReason.CANCELLED);
            }
        }
        for (SimSequence s : List.copyOf(running)) {
            if (s.cancelRequested) end(s, FinishReason.CANCELLED);
        }
    }

    /** Moves un-paused waiting requests, in arrival order, into the batch while it has room. */
    private List<SimSequence> admit() {
        List<SimSequence> admitted = new ArrayList<>();
        for (Iterator<SimSequence> it = waiting.iterator(); it.hasNext() && running.size() < config.maxRunningSequences(); ) {
            SimSequence s = it.next();
            if (s.paused) continue;
            it.remove();
            engine.waitingCount.decrementAndGet();
            running.add(s);
            admitted.add(s);
        }
        return admitted;
    }

    /** The batch's sequences that take a decode step (before this step's admissions). */
    private List<SimSequence> runnable() {
        List<SimSequence> out = new ArrayList<>(running.size());
        for (SimSequence s : running) if (!s.paused) out.add(s);
        return out;
    }

    private void step(SimSequence s) {
        if (s.cancelRequested) {
            end(s, FinishReason.CANCELLED);
            return;
        }
        if (s.paused) return; // paused during the step: its token is not taken
        FinishReason end;
        try {
            end = s.advance(tokens, config.eosProbability(), info.contextLength());
        } catch (RuntimeException e) {
            running.remove(s);
            publishLoad();
            engine.fail(s, ErrorCode.INTERNAL, "token sink failed: " + e);
            return;
        }
        if (end != null) end(s, end);
    }

    /** Frees a running sequence, then reports its end: whoever sees the end sees the freed load. */
    private void end(SimSequence s, FinishReason reason) {
        running.remove(s);
        publishLoad();
        engine.finish(s, reason);
    }

    private void publishLoad() {
        int blocks = 0;
        for (SimSequence s : running) blocks += s.blocks(info.blockSize());
        engine.publishLoad(running.size(), blocks);
    }
}
