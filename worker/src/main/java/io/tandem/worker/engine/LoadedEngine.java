package io.tandem.worker.engine;

import io.tandem.engine.Engine;

/**
 * An engine ready to serve, with what the worker advertises about it and what must be released
 * after it (the memory-mapped model file).
 */
public record LoadedEngine(Engine engine, String modelName, AutoCloseable resources) implements AutoCloseable {

    /** Context length of the served model, in tokens. */
    public int maxContext() {
        return engine.info().contextLength();
    }

    /** Closes the engine (its pending requests fail), then the model. */
    @Override
    public void close() throws Exception {
        try {
            engine.close();
        } finally {
            if (resources != null) resources.close();
        }
    }
}
