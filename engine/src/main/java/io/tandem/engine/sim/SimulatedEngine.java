package io.tandem.engine.sim;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.EngineRequests;
import io.tandem.engine.TokenSink;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.WorkerLoad;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntPredicate;

/**
 * An {@link Engine} without weights: a continuous-batching scheduler on its own thread that
 * takes the time {@link SimConfig} models and emits token ids drawn from the model's real
 * vocabulary (never control or end tokens). Ids are a function of the seed: the request's seed,
 * else for greedy requests the prompt (greedy decoding is deterministic), else a random seed.
 * End of generation comes with {@link SimConfig#eosProbability()} per token unless ignore_eos.
 * <p>
 * The simulator has no logits, so it returns no logprobs (tokens carry {@code null}); they come
 * with the real engine. KV use is accounted in blocks of {@link EngineInfo#blockSize()} tokens
 * per running sequence, with room for {@code maxRunningSequences} full contexts, so
 * {@link #load()} reports meaningful active blocks; prefix caching is not simulated
 * ({@code cachedTokens} is 0).
 */
public final class SimulatedEngine implements Engine {
    private final EngineInfo info;
    private final SimConfig config;
    private final SimTokenSource tokens;
    private final Map<String, SimSequence> sequences = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<SimSequence> inbox = new ConcurrentLinkedQueue<>();
    final AtomicInteger waitingCount = new AtomicInteger();
    private final int totalBlocks;
    private volatile boolean closed;
    private volatile int runningCount;
    private volatile int activeBlocks;
    private final Thread thread;

    public SimulatedEngine(EngineInfo info, IntPredicate sampleable, int[] eosIds, SimConfig config) {
        this(info, sampleable, eosIds, config, SimClock.SYSTEM);
    }

    public SimulatedEngine(EngineInfo info, IntPredicate sampleable, int[] eosIds, SimConfig config, SimClock clock) {
        this.info = Objects.requireNonNull(info, "info");
        this.config = Objects.requireNonNull(config, "config");
        this.tokens = new SimTokenSource(info.vocabSize(), sampleable, eosIds);
        int blocksPerContext = (info.contextLength() + info.blockSize() - 1) / info.blockSize();
        this.totalBlocks = Math.multiplyExact(blocksPerContext, config.maxRunningSequences());
        this.thread = Thread.ofPlatform().daemon().name("tandem-sim-engine-" + info.modelName())
                .unstarted(new SimScheduler(this, config, tokens, info, clock));
        thread.start();
    }

    @Override
    public EngineInfo info() {
        return info;
    }

    public SimConfig config() {
        return config;
    }

    @Override
    public void submit(EngineRequest request, TokenSink sink) throws EngineRejectedException {
        Objects.requireNonNull(sink, "sink");
        validate(request);
        if (waitingCount.incrementAndGet() > config.maxWaitingRequests()) {
            waitingCount.decrementAndGet();
            throw new EngineRejectedException(ErrorCode.OVERLOADED,
                    "the engine's waiting queue is full (" + config.maxWaitingRequests() + " requests)");
        }
        SimSequence seq = new SimSequence(request, sink, seedOf(request));
        if (sequences.putIfAbsent(seq.id(), seq) != null) {
            waitingCount.decrementAndGet();
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "request id '" + seq.id() + "' is already running");
        }
        inbox.add(seq);
        LockSupport.unpark(thread);
        // close() may have swept before our put: whoever removes the entry owns the outcome
        if (closed && sequences.remove(seq.id(), seq)) throw EngineRequests.closed();
    }

    private void validate(EngineRequest r) throws EngineRejectedException {
        Objects.requireNonNull(r, "request");
        if (closed) throw EngineRequests.closed();
        if (sequences.containsKey(r.requestId())) {
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "request id '" + r.requestId() + "' is already running");
        }
        EngineRequests.checkPrompt(r, info);
    }

    private static long seedOf(EngineRequest r) {
        if (r.sampling().seed() != null) return r.sampling().seed();
        if (r.sampling().isGreedy()) return new SplittableRandom(Arrays.hashCode(r.promptTokens())).nextLong();
        return ThreadLocalRandom.current().nextLong();
    }

    @Override
    public void cancel(String requestId) {
        SimSequence seq = sequences.get(requestId);
        if (seq == null) return;
        seq.cancelRequested = true;
        LockSupport.unpark(thread);
    }

    @Override
    public void setPaused(String requestId, boolean paused) {
        SimSequence seq = sequences.get(requestId);
        if (seq == null) return;
        seq.paused = paused;
        if (!paused) LockSupport.unpark(thread);
    }

    /** Whether the request is held and paused (for tests and diagnostics). */
    public boolean isPaused(String requestId) {
        SimSequence seq = sequences.get(requestId);
        return seq != null && seq.paused;
    }

    @Override
    public WorkerLoad load() {
        return new WorkerLoad(runningCount, waitingCount.get(), activeBlocks, totalBlocks);
    }

    @Override
    public int activeRequests() {
        return sequences.size();
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        if (Thread.currentThread() != thread) {
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
            failAll();
        }
    }

    // --- used by the scheduler thread ---

    boolean isClosed() {
        return closed;
    }

    void publishLoad(int running, int blocks) {
        runningCount = running;
        activeBlocks = blocks;
    }

    void finish(SimSequence seq, FinishReason reason) {
        if (sequences.remove(seq.id(), seq)) {
            try {
                seq.sink.onFinished(reason, seq.usage());
            } catch (RuntimeException e) {
                log(seq, e);
            }
        }
    }

    void fail(SimSequence seq, ErrorCode code, String message) {
        if (sequences.remove(seq.id(), seq)) {
            try {
                seq.sink.onFailed(code, message);
            } catch (RuntimeException e) {
                log(seq, e);
            }
        }
    }

    void failAll() {
        inbox.clear();
        for (SimSequence seq : sequences.values()) fail(seq, ErrorCode.UNAVAILABLE, "the engine shut down");
        waitingCount.set(0);
        publishLoad(0, 0);
    }

    private static void log(SimSequence seq, RuntimeException e) {
        System.getLogger(SimulatedEngine.class.getName())
                .log(System.Logger.Level.WARNING, "token sink of " + seq.id() + " threw", e);
    }
}
