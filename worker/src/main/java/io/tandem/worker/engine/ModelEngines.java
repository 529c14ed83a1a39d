package io.tandem.worker.engine;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.sim.SimConfig;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.model.BundledModel;
import io.tandem.model.LoadedModel;
import io.tandem.model.tokenizer.Tokenizer;
import io.tandem.protocol.BlockHasher;
import io.tandem.worker.WorkerOptions;

import java.nio.file.Path;

/**
 * The one place a worker loads its model and builds the engine named in its options. The model
 * stays open (memory-mapped) for the engine's lifetime.
 */
public final class ModelEngines implements EngineFactory {

    @Override
    public LoadedEngine open(WorkerOptions options) throws Exception {
        EngineNames.check(options.engine());
        Path path = options.modelPath() != null ? options.modelPath() : BundledModel.path();
        LoadedModel model = LoadedModel.open(path);
        try {
            return new LoadedEngine(simulated(model, options), model.name(), model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The simulated engine over the model's real vocabulary: never samples control tokens, ends on its EOG ids. */
    static Engine simulated(LoadedModel model, WorkerOptions options) {
        Tokenizer tok = model.tokenizer();
        EngineInfo info = new EngineInfo(model.name(), tok.vocabSize(), model.config().contextLength(), BlockHasher.DEFAULT_BLOCK_SIZE);
        return new SimulatedEngine(info, id -> !tok.isControl(id), tok.endOfGenerationIds(), SimConfig.fromMap(options.engineOptions()));
    }
}
