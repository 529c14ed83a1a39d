package io.tandem.worker.engine;

import io.tandem.worker.WorkerOptions;

/** Makes the engine a worker wraps; called off the event loop (it may read files). */
@FunctionalInterface
public interface EngineFactory {
    LoadedEngine open(WorkerOptions options) throws Exception;
}
