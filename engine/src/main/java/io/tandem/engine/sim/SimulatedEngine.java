package io.tandem.engine.sim;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.BlockPool;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.cache.KvEventLog;
import io.tandem.engine.cache.KvEventSink;
import io.tandem.engine.cpu.CpuEngineStats;
import io.tandem.engine.cpu.EngineLoop;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.WorkerLoad;

import java.util.Objects;
import java.util.function.IntPredicate;

/**
 * An {@link Engine} without weights, on the CPU engine's own scheduler and KV cache manager ({@link EngineLoop}):
 * continuous batching with chunked prefill, paged blocks with prefix caching and the KV events the router follows,
 * pause, cancel, overload refusal and resumed requests all behave as on the CPU engine. Only the model step is
 * simulated ({@link SimRunner}): each step takes the time {@link SimConfig} models, and tokens come from
 * {@link SimTokenModel} — a deterministic function of the context (never a control or end token, except an end of
 * generation with {@link SimConfig#eosProbability()} per token unless ignore_eos), sampled through the request's
 * {@code SequenceSampling} as the real sampler does. So greedy output depends on the prompt, seeded output on prompt and
 * seed, and a resumed request continues exactly as the uninterrupted one. Logprobs are the log-softmax over the
 * {@value SimTokenModel#CANDIDATES} candidates of each position.
 * <p>
 * No KV memory is allocated: blocks are accounting only, {@value #CONTEXTS_PER_SEQUENCE} full contexts per running
 * sequence (at most {@value #MAX_BLOCKS} blocks), so thousands of streams are cheap. Each step computes at most
 * {@value #MIN_TOKEN_BUDGET} tokens (or two per running sequence, if more); longer prompts are prefilled in chunks.
 */
public final class SimulatedEngine implements Engine {
    /** Full contexts of KV blocks per running sequence: room for the batch plus cached prefixes. */
    static final int CONTEXTS_PER_SEQUENCE = 2;
    static final int MAX_BLOCKS = 1 << 20;
    static final int MIN_TOKEN_BUDGET = 8192;

    private final SimConfig config;
    private final EngineLoop loop;
    private volatile boolean closed;

    public SimulatedEngine(EngineInfo info, IntPredicate sampleable, int[] eosIds, SimConfig config) {
        this(info, sampleable, eosIds, config, SimClock.SYSTEM);
    }

    public SimulatedEngine(EngineInfo info, IntPredicate sampleable, int[] eosIds, SimConfig config, SimClock clock) {
        this(info, sampleable, eosIds, config, clock, info.modelName(), KvEventSink.NONE);
    }

    /**
     * @param sampleable which ids of the vocabulary may be generated (not control tokens)
     * @param eosIds     the end-of-generation ids (the first is the one generated)
     * @param workerId   names the KV events this engine publishes
     * @param events     where KV events go ({@link KvEventSink#NONE} for nowhere)
     */
    public SimulatedEngine(EngineInfo info, IntPredicate sampleable, int[] eosIds, SimConfig config, SimClock clock,
                           String workerId, KvEventSink events) {
        Objects.requireNonNull(info, "info");
        this.config = Objects.requireNonNull(config, "config");
        SimTokenModel model = new SimTokenModel(info.vocabSize(), sampleable, eosIds, config.eosProbability(), info.blockSize());
        KvCacheManager kv = new KvCacheManager(new BlockPool(blocks(info, config), new KvEventLog(workerId, events)),
                new BlockHasher(info.modelName(), info.blockSize()), true);
        SimRunner runner = new SimRunner(config, clock, () -> closed, info.contextLength(), model);
        int budget = Math.max(MIN_TOKEN_BUDGET, 2 * config.maxRunningSequences());
        this.loop = EngineLoop.start("tandem-sim-engine-" + info.modelName(), info, runner, kv, budget,
                config.maxRunningSequences(), config.maxWaitingRequests(), eosIds, () -> { });
    }

    private static int blocks(EngineInfo info, SimConfig config) {
        long perContext = (info.contextLength() + info.blockSize() - 1) / info.blockSize();
        long blocks = perContext * CONTEXTS_PER_SEQUENCE * config.maxRunningSequences();
        return (int) Math.max(perContext, Math.min(blocks, MAX_BLOCKS));
    }

    @Override
    public EngineInfo info() {
        return loop.info();
    }

    public SimConfig config() {
        return config;
    }

    @Override
    public void submit(EngineRequest request, TokenSink sink) throws EngineRejectedException {
        loop.submit(request, sink);
    }

    @Override
    public void cancel(String requestId) {
        loop.cancel(requestId);
    }

    @Override
    public void setPaused(String requestId, boolean paused) {
        loop.setPaused(requestId, paused);
    }

    /** Whether the request is held and paused (for tests and diagnostics). */
    public boolean isPaused(String requestId) {
        return loop.isPaused(requestId);
    }

    @Override
    public void requestKvSnapshot() {
        loop.requestKvSnapshot();
    }

    @Override
    public WorkerLoad load() {
        return loop.load();
    }

    /** Steps, computed tokens, preemptions and the prefix cache's counters, as of the last step. */
    public CpuEngineStats stats() {
        return loop.stats();
    }

    @Override
    public int activeRequests() {
        return loop.activeRequests();
    }

    @Override
    public long currentStepNanos() {
        return loop.currentStepNanos();
    }

    @Override
    public void close() {
        closed = true;
        loop.close();
    }
}
