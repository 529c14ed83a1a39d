package io.tandem.engine;

import io.tandem.protocol.WorkerLoad;

/**
 * What a worker needs from an inference engine: token ids in, token ids out. An engine runs on
 * its own threads; it knows nothing of Vert.x. Callbacks on a {@link TokenSink} come from an
 * engine thread and must not block.
 */
public interface Engine extends AutoCloseable {

    /** Static facts about the loaded model. */
    EngineInfo info();

    /**
     * Queue a request. Tokens flow to {@code sink} until exactly one terminal callback.
     *
     * @throws EngineRejectedException when the request cannot be taken (queue full, prompt too
     *                                 long, shutting down); nothing is held for it then
     */
    void submit(EngineRequest request, TokenSink sink) throws EngineRejectedException;

    /**
     * Stop a request at its next step and free what it holds; its sink then gets
     * {@code onFinished(CANCELLED, …)}. Unknown or finished ids are ignored.
     */
    void cancel(String requestId);

    /**
     * Flow control: a paused request is skipped by the scheduler (it keeps its place and its
     * KV cache) until resumed. Used when the consumer has no credit left.
     */
    void setPaused(String requestId, boolean paused);

    /**
     * Publishes, as the next KV event batch, a snapshot of the prefix cache: a clear followed by
     * every cached block (a router that missed batches asked for it). Asynchronous; engines
     * without a prefix cache ignore it.
     */
    default void requestKvSnapshot() {
    }

    /**
     * How long the engine step running now has been running, 0 between steps: a step that never ends means a hung
     * engine, and the worker then stops telling gateways its requests are alive. Cheap, any thread.
     */
    default long currentStepNanos() {
        return 0;
    }

    /** Current load, cheap to call. */
    WorkerLoad load();

    /** Number of requests the engine holds (running, waiting or paused). */
    int activeRequests();

    /** Stops the engine threads; pending requests get {@code onFailed}. */
    @Override
    void close();
}
