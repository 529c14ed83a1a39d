package io.tandem.engine.cpu;

import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.EngineRequests;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.RemotePrefill;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerLoad;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The engine thread around an {@link EngineCore}: other threads queue requests and set flags, the engine thread owns
 * every block and sequence and runs one step at a time, parked when nothing can run. Both the CPU engine (the
 * transformer as its {@link ModelRunner}) and the simulated engine (modelled time, tokens without weights) are this
 * loop, so they schedule, cache prefixes, publish KV events, pause, cancel and refuse alike.
 */
public final class EngineLoop {
    private static final System.Logger LOG = System.getLogger(EngineLoop.class.getName());
    /**
     * How long a closing engine waits for KV sends still reading its blocks before it frees the cache anyway. Exports
     * bound their own sends (the worker's by its prefill timeout, 30 s by default); this only backs them up.
     */
    static final Duration CLOSE_SEND_WAIT = Duration.ofSeconds(60);

    private final EngineInfo info;
    private final EngineCore core;
    private final int maxRequests;
    private final Runnable onClosed;
    private final Map<String, EngineSequence> sequences = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<EngineSequence> inbox = new ConcurrentLinkedQueue<>();
    /** Work other threads hand to the engine thread (remote prefill outcomes). */
    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    /** Iterations of the engine loop: an engine waiting only for sends must not add to it (no spinning). */
    /** When the running step began (System.nanoTime), 0 between steps. */
    private volatile long stepStartedNanos;
    private volatile long loops;
    private volatile boolean closed;
    private volatile boolean snapshotRequested;
    private volatile WorkerLoad load;
    private volatile CpuEngineStats stats;

    /**
     * Starts the engine thread, its steps limited by {@code max_num_batched_tokens} only (no latency target).
     *
     * @param threadName          the engine thread's name
     * @param model               what computes each step
     * @param kv                  the block bookkeeping, prefix cache and KV events
     * @param tokenBudget         tokens computed per step at most ({@code max_num_batched_tokens})
     * @param maxRunning          sequences in the batch at most ({@code max_num_seqs})
     * @param maxWaiting          requests held beyond the batch; more are refused as overloaded
     * @param endOfGenerationIds  the tokenizer's end-of-generation ids
     * @param onClosed            frees what the model holds, once the engine thread stopped and every request was told
     */
    public static EngineLoop start(String threadName, EngineInfo info, ModelRunner model, KvCacheManager kv,
                                   int tokenBudget, int maxRunning, int maxWaiting, int[] endOfGenerationIds,
                                   Runnable onClosed) {
        return start(threadName, info, model, kv, tokenBudget, 0, maxRunning, maxWaiting, endOfGenerationIds, onClosed);
    }

    /**
     * Starts the engine thread; a step holding decodes adds only the prompt tokens its measured cost model predicts
     * within {@code stepLatencyTargetNanos} ({@link PrefillBudget}).
     *
     * @param stepLatencyTargetNanos longest predicted time of a step holding decodes; 0 for no target
     */
    public static EngineLoop start(String threadName, EngineInfo info, ModelRunner model, KvCacheManager kv,
                                   int tokenBudget, long stepLatencyTargetNanos, int maxRunning, int maxWaiting,
                                   int[] endOfGenerationIds, Runnable onClosed) {
        PrefillBudget budget = new PrefillBudget(tokenBudget, stepLatencyTargetNanos, new StepCostModel());
        return new EngineLoop(threadName, info, model, kv, budget, maxRunning, maxWaiting, endOfGenerationIds, onClosed);
    }

    private EngineLoop(String threadName, EngineInfo info, ModelRunner model, KvCacheManager kv, PrefillBudget budget,
                       int maxRunning, int maxWaiting, int[] endOfGenerationIds, Runnable onClosed) {
        this.info = Objects.requireNonNull(info, "info");
        this.maxRequests = Math.addExact(maxRunning, maxWaiting);
        this.onClosed = Objects.requireNonNull(onClosed, "onClosed");
        Wakeup wakeup = new Wakeup();
        this.core = new EngineCore(model, kv, budget, maxRunning, endOfGenerationIds, wakeup, System::nanoTime);
        publish();
        this.thread = Thread.ofPlatform().daemon().name(threadName).unstarted(this::run);
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

    public EngineInfo info() {
        return info;
    }

    public void submit(EngineRequest request, TokenSink sink) throws EngineRejectedException {
        enqueue(request, sink, null, null);
    }

    /**
     * Queues a request, with the decode side of a possible remote prefill ({@code remote}) or as a prefill-only request
     * ({@code export}); both null for an ordinary one.
     */
    void enqueue(EngineRequest request, TokenSink sink, RemotePrefill remote, KvExport export)
            throws EngineRejectedException {
        Objects.requireNonNull(sink, "sink");
        validate(request);
        if (sequences.size() >= maxRequests) {
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
        KvCacheManager kv = core.kv();
        if (blocks > kv.totalBlocks()) {
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "prompt plus max_tokens needs up to " + maxLength
                    + " tokens of KV cache but this worker's cache holds " + (long) kv.totalBlocks() * kv.blockSize()
                    + "; lower max_tokens or shorten the prompt");
        }
    }

    /** Runs {@code action} on the engine thread with the request's sequence, if the engine still holds it. */
    void onEngineThread(String requestId, Consumer<EngineSequence> action) {
        EngineSequence s = sequences.get(requestId);
        if (s == null) return;
        commands.add(() -> action.accept(s));
        LockSupport.unpark(thread);
    }

    /** Tells {@code observer} of every step, on the engine thread ({@link StepObserver#NONE} to stop). */
    public void observeSteps(StepObserver observer) {
        core.observeSteps(observer);
    }

    EngineCore core() {
        return core;
    }

    public void cancel(String requestId) {
        EngineSequence s = sequences.get(requestId);
        if (s == null) return;
        s.requestCancel();
        LockSupport.unpark(thread);
    }

    public void setPaused(String requestId, boolean paused) {
        EngineSequence s = sequences.get(requestId);
        if (s == null) return;
        s.setPaused(paused);
        if (!paused) LockSupport.unpark(thread);
    }

    /** Whether the request is held and paused (tests, diagnostics). */
    public boolean isPaused(String requestId) {
        EngineSequence s = sequences.get(requestId);
        return s != null && s.paused();
    }

    public void requestKvSnapshot() {
        snapshotRequested = true;
        LockSupport.unpark(thread);
    }

    public WorkerLoad load() {
        return load;
    }

    public CpuEngineStats stats() {
        return stats;
    }

    public int activeRequests() {
        return sequences.size();
    }

    public boolean isClosed() {
        return closed;
    }

    /** How long the running step has been running, 0 between steps (a hung step means a hung engine). */
    public long currentStepNanos() {
        long started = stepStartedNanos;
        return started == 0 ? 0 : Math.max(0, System.nanoTime() - started);
    }

    private void run() {
        while (!closed) {
            try {
                loops++;
                EngineSequence s;
                boolean admitted = false;
                while ((s = inbox.poll()) != null) {
                    core.add(s);
                    admitted = true;
                }
                if (admitted) publish(); // the queue as the scheduler holds it, before a step that may take long
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
                LOG.log(System.Logger.Level.ERROR, "engine step failed; failing every request it held", t);
                core.failAll(ErrorCode.INTERNAL, "the engine failed: " + t);
                publish();
            }
        }
        try {
            failHeld();
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "engine failed while shutting down", t);
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
        long queued = s.queuedPromptTokens();
        for (EngineSequence q : inbox) queued += q.kv().uncomputedTokens();
        ServiceRates r = core.rates();
        load = new WorkerLoad(s.runningCount(), s.waitingCount() + inbox.size(), kv.activeBlocks(), kv.totalBlocks(), false,
                queued, r.prefillTokensPerSecond(), r.decodeStepNanos() / 1e6);
        stats = new CpuEngineStats(core.steps(), core.computedTokens(), core.stepNanos(), s.preemptions(), s.sendingCount(),
                kv.stats(), kv.cachedBlocks(), kv.freeBlocks(), kv.totalBlocks());
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
     * {@link #CLOSE_SEND_WAIT}), then runs {@code onClosed}. Idempotent.
     */
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
        onClosed.run();
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * Forgets a request when its terminal callback comes, so its id can be reused and counts are right, and publishes
     * the load first: whoever sees the end sees the freed blocks. Called on the engine thread (or, closing, after it
     * stopped), which owns what {@link #publish} reads.
     */
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
            publish();
            sink.onFinished(reason, usage);
        }

        @Override
        public void onFailed(ErrorCode code, String message) {
            sequences.remove(id);
            publish();
            sink.onFailed(code, message);
        }
    }
}
