package io.tandem.engine.cpu;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.EngineRequests;
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
import io.tandem.engine.kv.KvCache;
import io.tandem.engine.kv.KvLayout;
import io.tandem.engine.kv.KvMemoryAllocator;
import io.tandem.engine.remote.DisaggregatedEngine;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.RemotePrefill;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerLoad;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * The transformer engine: real inference on the CPU over a paged KV cache with prefix caching,
 * continuous batching and chunked prefill ({@link Scheduler}), one {@link EngineCore} step at a
 * time on its own thread. Other threads only queue requests and set flags; the engine thread owns
 * every block and sequence.
 */
public final class CpuEngine implements DisaggregatedEngine {
    private static final System.Logger LOG = System.getLogger(CpuEngine.class.getName());
    /** Cap of the KV cache: this many full contexts per {@code max-num-seqs} slot (running sequences plus cached prefixes). */
    static final int CONTEXTS_PER_SEQUENCE = 4;
    /**
     * How long a closing engine waits for KV sends still reading its blocks before it frees the cache anyway. Exports
     * bound their own sends (the worker's by its prefill timeout, 30 s by default); this only backs them up.
     */
    static final java.time.Duration CLOSE_SEND_WAIT = java.time.Duration.ofSeconds(60);

    private final EngineInfo info;
    private final CpuEngineConfig config;
    private final EngineCore core;
    private final KvCache cache;
    private final ComputePool pool;
    private final Map<String, EngineSequence> sequences = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<EngineSequence> inbox = new ConcurrentLinkedQueue<>();
    /** Work other threads hand to the engine thread (remote prefill outcomes). */
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    /** Iterations of the engine loop: an engine waiting only for sends must not add to it (no spinning). */
    private volatile long loops;
    /** When the running step began (System.nanoTime), 0 between steps. */
    private volatile long stepStartedNanos;
    private volatile boolean closed;
    private volatile boolean snapshotRequested;
    private volatile WorkerLoad load;
    private volatile CpuEngineStats stats;

    private CpuEngine(EngineInfo info, CpuEngineConfig config, EngineCore core, KvCache cache, ComputePool pool,
                      Wakeup wakeup) {
        this.info = info;
        this.config = config;
        this.core = core;
        this.cache = cache;
        this.pool = pool;
        publish();
        this.thread = Thread.ofPlatform().daemon().name("tandem-cpu-engine-" + info.modelName()).unstarted(this::run);
        wakeup.thread = thread;
        thread.start();
    }

    /** Unparks the engine thread; KV exports call it when their sends settle. */
    private static final class Wakeup implements Runnable {
        private volatile Thread thread;

        @Override
        public void run() {
            Thread t = thread;
            if (t != null) LockSupport.unpark(t);
        }
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
        ComputePool pool = new ComputePool(config.threads());
        KvCache cache = null;
        try {
            Transformer model = new Transformer(weights, new MatMul(Kernels.create(config.kernels()), pool));
            cache = KvCache.allocate(layout, allocator);
            BlockHasher hasher = new BlockHasher(modelName, config.blockSize());
            KvCacheManager kv = new KvCacheManager(new BlockPool(layout.numBlocks(), new KvEventLog(workerId, events)),
                    hasher, config.prefixCaching());
            Wakeup wakeup = new Wakeup();
            EngineCore core = new EngineCore(model, cache, kv, config.maxNumBatchedTokens(), config.maxNumSeqs(),
                    endOfGenerationIds, wakeup);
            EngineInfo info = new EngineInfo(modelName, modelConfig.vocabSize(), modelConfig.contextLength(),
                    config.blockSize());
            return new CpuEngine(info, config, core, cache, pool, wakeup);
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
        return info;
    }

    public CpuEngineConfig config() {
        return config;
    }

    /** The KV cache's shape (for the transfer layer's bootstrap and for logs). */
    public KvLayout kvLayout() {
        return cache.layout();
    }

    @Override
    public KvCache kvCache() {
        return cache;
    }

    @Override
    public void submit(EngineRequest request, TokenSink sink) throws EngineRejectedException {
        enqueue(request, sink, null, null);
    }

    @Override
    public void submit(EngineRequest request, TokenSink sink, RemotePrefill remote) throws EngineRejectedException {
        enqueue(request, sink, Objects.requireNonNull(remote, "remote"), null);
    }

    @Override
    public void submitPrefill(EngineRequest request, TokenSink sink, KvExport export) throws EngineRejectedException {
        enqueue(request, sink, null, Objects.requireNonNull(export, "export"));
    }

    @Override
    public void completeRemotePrefill(String requestId, int firstToken, TokenLogprobs logprobs) {
        onEngineThread(requestId, s -> core.completeRemotePrefill(s, firstToken, logprobs));
    }

    @Override
    public void failRemotePrefill(String requestId, String reason) {
        onEngineThread(requestId, s -> core.failRemotePrefill(s, reason));
    }

    private void onEngineThread(String requestId, java.util.function.Consumer<EngineSequence> action) {
        EngineSequence s = sequences.get(requestId);
        if (s == null) return;
        commands.add(() -> action.accept(s));
        LockSupport.unpark(thread);
    }

    private void enqueue(EngineRequest request, TokenSink sink, RemotePrefill remote, KvExport export)
            throws EngineRejectedException {
        Objects.requireNonNull(sink, "sink");
        validate(request);
        if (sequences.size() >= config.maxNumSeqs() + config.maxWaitingRequests()) {
            throw new EngineRejectedException(ErrorCode.OVERLOADED, "the engine holds " + sequences.size()
                    + " requests, its limit (max-num-seqs + max-waiting-requests)");
        }
        EngineSequence seq = core.newSequence(request, new Untracking(request.requestId(), sink));
        // a resumed request prefills locally: the prefill worker would sample its next token without the resumed state
        seq.setRemote(request.isResumed() ? null : remote);
        seq.setExport(export);
        if (sequences.putIfAbsent(request.requestId(), seq) != null) {
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "request id '" + request.requestId() + "' is already running");
        }
        inbox.add(seq);
        LockSupport.unpark(thread);
        // close() may have swept before our put: whoever removes the entry owns the outcome
        if (closed && sequences.remove(request.requestId(), seq)) throw EngineRequests.closed();
    }

    private void validate(EngineRequest r) throws EngineRejectedException {
        Objects.requireNonNull(r, "request");
        if (closed) throw EngineRequests.closed();
        EngineRequests.checkPrompt(r, info);
        int[] prompt = r.promptTokens();
        long maxLength = Math.min(info.contextLength(), (long) prompt.length + r.sampling().maxTokens());
        long blocks = (maxLength + info.blockSize() - 1) / info.blockSize();
        if (blocks > cache.layout().numBlocks()) {
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "prompt plus max_tokens needs up to " + maxLength
                    + " tokens of KV cache but this worker's cache holds " + cache.layout().capacityTokens()
                    + "; lower max_tokens or shorten the prompt");
        }
    }

    @Override
    public void cancel(String requestId) {
        EngineSequence s = sequences.get(requestId);
        if (s == null) return;
        s.requestCancel();
        LockSupport.unpark(thread);
    }

    @Override
    public void setPaused(String requestId, boolean paused) {
        EngineSequence s = sequences.get(requestId);
        if (s == null) return;
        s.setPaused(paused);
        if (!paused) LockSupport.unpark(thread);
    }

    @Override
    public void requestKvSnapshot() {
        snapshotRequested = true;
        LockSupport.unpark(thread);
    }

    @Override
    public WorkerLoad load() {
        return load;
    }

    public CpuEngineStats stats() {
        return stats;
    }

    @Override
    public int activeRequests() {
        return sequences.size();
    }

    @Override
    public long currentStepNanos() {
        long started = stepStartedNanos;
        return started == 0 ? 0 : Math.max(0, System.nanoTime() - started);
    }

    private void run() {
        while (!closed) {
            try {
                loops++;
                EngineSequence s;
                while ((s = inbox.poll()) != null) core.add(s);
                Runnable command;
                while ((command = commands.poll()) != null) command.run();
                if (snapshotRequested) {
                    snapshotRequested = false;
                    core.kv().publishSnapshot();
                }
                stepStartedNanos = System.nanoTime();
                boolean worked;
                try {
                    worked = core.step();
                } finally {
                    stepStartedNanos = 0;
                }
                publish();
                if (!worked) LockSupport.park(this); // woken by submit, cancel, resume, settled sends, close
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.ERROR, "CPU engine step failed; failing every request it held", t);
                core.failAll(ErrorCode.INTERNAL, "the engine failed: " + t);
                publish();
            }
        }
        try {
            failHeld();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "CPU engine failed while shutting down", t);
        }
    }

    /**
     * Closing, on the engine thread: fails what it holds, then waits — parked, woken by the exports — until the KV
     * sends still reading blocks settle, at most {@link #CLOSE_SEND_WAIT}; then the cache can be freed.
     */
    private void failHeld() {
        EngineSequence s;
        while ((s = inbox.poll()) != null) core.add(s);
        core.failAll(ErrorCode.UNAVAILABLE, "the engine shut down");
        long deadline = System.nanoTime() + CLOSE_SEND_WAIT.toNanos();
        while (core.hasSending()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                LOG.log(System.Logger.Level.WARNING, core.sendingCount() + " prefill-only requests still had KV sends in flight "
                        + CLOSE_SEND_WAIT.toSeconds() + " s after the engine closed; freeing their blocks anyway");
                core.abandonSends("the engine shut down with KV sends in flight");
                break;
            }
            LockSupport.parkNanos(this, left);
            core.settleSends();
        }
        publish();
    }

    private void publish() {
        Scheduler s = core.scheduler();
        KvCacheManager kv = core.kv();
        load = new WorkerLoad(s.runningCount(), s.waitingCount() + inbox.size(), kv.activeBlocks(), kv.totalBlocks());
        stats = new CpuEngineStats(core.steps(), core.computedTokens(), s.preemptions(), s.sendingCount(), kv.stats(),
                kv.cachedBlocks(), kv.freeBlocks(), kv.totalBlocks());
    }

    /** Iterations of the engine loop so far (tests check that waiting for sends parks instead of spinning). */
    long loops() {
        return loops;
    }

    /** Whether the engine thread is parked in its loop with nothing to do (tests: no spinning, no timed polling). */
    boolean parkedIdle() {
        return thread.getState() == Thread.State.WAITING && LockSupport.getBlocker(thread) == this;
    }

    /**
     * Stops the engine thread, fails what it held (waiting for KV sends that still read its blocks, bounded by
     * {@link #CLOSE_SEND_WAIT}), then frees the KV cache and the compute threads.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        LockSupport.unpark(thread);
        boolean interrupted = false;
        while (thread.isAlive() && Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        // requests queued after the engine thread's last look: never admitted, nothing posted for them
        EngineSequence s;
        while ((s = inbox.poll()) != null) core.add(s);
        commands.clear();
        core.failAll(ErrorCode.UNAVAILABLE, "the engine shut down");
        if (core.hasSending()) core.abandonSends("the engine shut down");
        publish();
        cache.close();
        pool.close();
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Forgets a request when its terminal callback comes, so its id can be reused and counts are right. */
    private final class Untracking implements TokenSink {
        private final String id;
        private final TokenSink sink;

        Untracking(String id, TokenSink sink) {
            this.id = id;
            this.sink = sink;
        }

        @Override
        public void onToken(int token, TokenLogprobs logprobs) {
            sink.onToken(token, logprobs);
        }

        @Override
        public void onFinished(FinishReason reason, Usage usage) {
            sequences.remove(id);
            sink.onFinished(reason, usage);
        }

        @Override
        public void onFailed(ErrorCode code, String message) {
            sequences.remove(id);
            sink.onFailed(code, message);
        }
    }
}
