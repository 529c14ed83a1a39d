package io.tandem.worker.engine;

import io.tandem.engine.Engine;
import io.tandem.protocol.ClusterContract;

import java.util.Objects;

/**
 * An engine ready to serve, with what the worker advertises about it and what must be released
 * after it (the memory-mapped model file).
 *
 * @param contract what the worker states in its registry record: the model's fingerprint and the engine's block
 *                 size, KV dtype and layout
 */
public record LoadedEngine(Engine engine, String modelName, AutoCloseable resources, ClusterContract contract)
        implements AutoCloseable {

    public LoadedEngine {
        Objects.requireNonNull(contract, "contract");
    }

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
