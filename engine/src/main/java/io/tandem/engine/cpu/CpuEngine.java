package io.tandem.engine.cpu;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.BlockPool;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.cache.KvEventLog;
import io.tandem.engine.cache.KvEventSink;
import io.tandem.engine.forward.ModelWeights;
import io.tandem.engine.forward.Transformer;
import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvLayout;
import io.tandem.engine.kv.KvMemoryAllocator;
import io.tandem.engine.remote.DisaggregatedEngine;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.RemotePrefill;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.WorkerLoad;

import java.util.Objects;

/**
 * The transformer engine: real inference on the CPU over a paged KV cache with prefix caching,
 * continuous batching and chunked prefill ({@link Scheduler}), one {@link EngineCore} step at a
 * time on its own thread ({@link EngineLoop}), the model step being the {@link Transformer}
 * ({@link TransformerRunner}). Other threads only queue requests and set flags; the engine thread
 * owns every block and sequence.
 */
public final class CpuEngine implements DisaggregatedEngine {
    /** Cap of the KV cache: this many full contexts per {@code max-num-seqs} slot (running sequences plus cached prefixes). */
    static final int CONTEXTS_PER_SEQUENCE = 4;

    private final CpuEngineConfig config;
    private final EngineLoop loop;
    private final KvArenas cache;

    private CpuEngine(CpuEngineConfig config, EngineLoop loop, KvArenas cache) {
        this.config = config;
        this.loop = loop;
        this.cache = cache;
    }

    /**
     * An engine serving the model in {@code file} (weights stay mapped; the caller keeps the file open
     * while the engine runs).
     *
     * @param endOfGenerationIds the tokenizer's end-of-generation ids
     * @param workerId           names the KV events this engine publishes
     * @param events             where KV events go ({@link KvEventSink#NONE} for nowhere)
     * @param allocator          where the KV arenas come from (registered memory for KV transfer); the engine owns it
     */
    public static CpuEngine open(GgufFile file, String modelName, int[] endOfGenerationIds, CpuEngineConfig config,
                                 String workerId, KvEventSink events, KvMemoryAllocator allocator) {
        ModelConfig modelConfig = ModelConfig.from(file.metadata());
        ModelWeights weights = ModelWeights.load(file, modelConfig);
        KvLayout layout = cacheLayout(modelConfig, config);
        ComputePool pool = new ComputePool(config.threads(), config.computePriority());
        KvArenas cache = null;
        try {
            Transformer model = new Transformer(weights, new MatMul(Kernels.create(config.kernels()), pool));
            cache = KvArenas.allocate(layout, allocator);
            BlockHasher hasher = new BlockHasher(modelName, config.blockSize());
            KvCacheManager kv = new KvCacheManager(new BlockPool(layout.numBlocks(), new KvEventLog(workerId, events)),
                    hasher, config.prefixCaching());
            EngineInfo info = new EngineInfo(modelName, modelConfig.vocabSize(), modelConfig.contextLength(),
                    config.blockSize());
            KvArenas owned = cache;
            EngineLoop loop = EngineLoop.start("tandem-cpu-engine-" + modelName, info, new TransformerRunner(model, cache, config.computePriority()),
                    kv, config.maxNumBatchedTokens(), config.stepLatencyTargetMs() * 1_000_000L, config.maxNumSeqs(),
                    config.maxWaitingRequests(), endOfGenerationIds,
                    () -> {
                        owned.close();
                        pool.close();
                    });
            return new CpuEngine(config, loop, cache);
        } catch (RuntimeException | Error e) {
            if (cache != null) cache.close();
            else allocator.close();
            pool.close();
            throw e;
        }
    }

    /**
     * The KV cache for the memory budget, but no larger than {@link #CONTEXTS_PER_SEQUENCE} full contexts per
     * sequence slot: beyond that extra blocks would only hold old prefixes, and a small model with a large budget
     * would waste memory.
     */
    static KvLayout cacheLayout(ModelConfig model, CpuEngineConfig config) {
        KvLayout budget = KvLayout.fromBudget(model, config.blockSize(), config.kvDataType(), config.kvCacheBytes());
        long useful = (long) CONTEXTS_PER_SEQUENCE * config.maxNumSeqs() * budget.blocksFor(model.contextLength());
        return budget.numBlocks() <= useful ? budget
                : KvLayout.forModel(model, config.blockSize(), config.kvDataType(), (int) useful);
    }

    /** An engine with plain off-heap KV memory whose KV events go nowhere. */
    public static CpuEngine open(GgufFile file, String modelName, int[] endOfGenerationIds, CpuEngineConfig config) {
        return open(file, modelName, endOfGenerationIds, config, modelName, KvEventSink.NONE, KvMemoryAllocator.offHeap());
    }

    @Override
    public EngineInfo info() {
        return loop.info();
    }

    public CpuEngineConfig config() {
        return config;
    }

    /** The KV cache's shape (for the transfer layer's bootstrap and for logs). */
    public KvLayout kvLayout() {
        return cache.layout();
    }

    @Override
    public KvArenas kvCache() {
        return cache;
    }

    @Override
    public void submit(EngineRequest request, TokenSink sink) throws EngineRejectedException {
        loop.enqueue(request, sink, null, null);
    }

    @Override
    public void submit(EngineRequest request, TokenSink sink, RemotePrefill remote) throws EngineRejectedException {
        loop.enqueue(request, sink, Objects.requireNonNull(remote, "remote"), null);
    }

    @Override
    public void submitPrefill(EngineRequest request, TokenSink sink, KvExport export) throws EngineRejectedException {
        loop.enqueue(request, sink, null, Objects.requireNonNull(export, "export"));
    }

    @Override
    public void completeRemotePrefill(String requestId, int firstToken, TokenLogprobs logprobs) {
        loop.onEngineThread(requestId, s -> loop.core().completeRemotePrefill(s, firstToken, logprobs));
    }

    @Override
    public void failRemotePrefill(String requestId, String reason) {
        loop.onEngineThread(requestId, s -> loop.core().failRemotePrefill(s, reason));
    }

    @Override
    public void cancel(String requestId) {
        loop.cancel(requestId);
    }

    @Override
    public void setPaused(String requestId, boolean paused) {
        loop.setPaused(requestId, paused);
    }

    @Override
    public void requestKvSnapshot() {
        loop.requestKvSnapshot();
    }

    @Override
    public WorkerLoad load() {
        return loop.load();
    }

    public CpuEngineStats stats() {
        return loop.stats();
    }

    /** Tells {@code observer} of every step, on the engine thread ({@link StepObserver#NONE} to stop). */
    public void observeSteps(StepObserver observer) {
        loop.observeSteps(observer);
    }

    @Override
    public int activeRequests() {
        return loop.activeRequests();
    }

    @Override
    public long currentStepNanos() {
        return loop.currentStepNanos();
    }

    /** Iterations of the engine loop so far (tests check that waiting for sends parks instead of spinning). */
    long loops() {
        return loop.loops();
    }

    /** Whether the engine thread is parked in its loop with nothing to do (tests: no spinning, no timed polling). */
    boolean parkedIdle() {
        return loop.parkedIdle();
    }

    /**
     * Stops the engine thread, fails what it held (waiting for KV sends that still read its blocks, bounded by
     * {@link EngineLoop#CLOSE_SEND_WAIT}), then frees the KV cache and the compute threads.
     */
    @Override
    public void close() {
        loop.close();
    }
}
