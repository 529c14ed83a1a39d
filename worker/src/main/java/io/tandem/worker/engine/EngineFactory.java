package io.tandem.worker.engine;

import io.tandem.engine.kv.KvMemoryAllocator;

import io.tandem.engine.cache.KvEventSink;
import io.tandem.worker.WorkerOptions;

/** Makes the engine a worker wraps; called off the event loop (it may read files). */
@FunctionalInterface
public interface EngineFactory {
    LoadedEngine open(WorkerOptions options) throws Exception;

    /** An engine whose KV events go to {@code events}; engines without a prefix cache ignore it. */
    default LoadedEngine open(WorkerOptions options, KvEventSink events) throws Exception {
        return open(options);
    }

    /**
     * An engine whose KV arenas come from {@code kvMemory} (registered with the transfer agent, so its blocks can be
     * transferred in place); engines without a paged KV cache ignore it.
     */
    default LoadedEngine open(WorkerOptions options, KvEventSink events, KvMemoryAllocator kvMemory) throws Exception {
        return open(options, events);
    }
}
