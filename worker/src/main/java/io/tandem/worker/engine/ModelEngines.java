package io.tandem.worker.engine;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.cache.KvEventSink;
import io.tandem.engine.cpu.CpuEngine;
import io.tandem.engine.cpu.CpuEngineConfig;
import io.tandem.engine.kv.KvLayout;
import io.tandem.engine.kv.KvMemoryAllocator;
import io.tandem.engine.remote.DisaggregatedEngine;
import io.tandem.engine.sim.SimClock;
import io.tandem.engine.sim.SimConfig;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.model.BundledModel;
import io.tandem.model.LoadedModel;
import io.tandem.model.tokenizer.Tokenizer;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.ClusterContract;
import io.tandem.worker.WorkerOptions;

import java.nio.file.Path;

/**
 * The one place a worker loads its model and builds the engine named in its options. The model
 * stays open (memory-mapped) for the engine's lifetime.
 */
public final class ModelEngines implements EngineFactory {
    private static final System.Logger LOG = System.getLogger(ModelEngines.class.getName());

    @Override
    public LoadedEngine open(WorkerOptions options) throws Exception {
        return open(options, KvEventSink.NONE);
    }

    @Override
    public LoadedEngine open(WorkerOptions options, KvEventSink events) throws Exception {
        return open(options, events, KvMemoryAllocator.offHeap());
    }

    @Override
    public LoadedEngine open(WorkerOptions options, KvEventSink events, KvMemoryAllocator kvMemory) throws Exception {
        EngineNames.check(options.engine());
        Path path = options.modelPath() != null ? options.modelPath() : BundledModel.path();
        LoadedModel model = LoadedModel.open(path);
        try {
            Engine engine = switch (options.engine()) {
                case EngineNames.CPU -> cpu(model, options, events, kvMemory);
                case EngineNames.SIM -> simulated(model, options, events);
                default -> throw new IllegalArgumentException("unknown engine " + options.engine());
            };
            return new LoadedEngine(engine, model.name(), model, contract(model.fingerprint(), engine));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * What a worker running {@code engine} states in its registry record: the KV terms of a paged cache, else
     * {@link ClusterContract#NO_KV} (the simulated engine accounts blocks of {@code info().blockSize()}, caches
     * prefixes and publishes KV events, but holds no KV data to transfer).
     */
    static ClusterContract contract(String fingerprint, Engine engine) {
        if (engine instanceof DisaggregatedEngine paged) {
            KvLayout l = paged.kvCache().layout();
            return ClusterContract.of(fingerprint, l.blockSize(), ClusterContract.kvDtype(l.type().name()),
                    ClusterContract.kvLayout(l.layers(), l.kvHeads(), l.headDim()));
        }
        return ClusterContract.of(fingerprint, engine.info().blockSize(), ClusterContract.NO_KV, ClusterContract.NO_KV);
    }

    /** The transformer engine on the model's mapped weights. */
    static Engine cpu(LoadedModel model, WorkerOptions options, KvEventSink events, KvMemoryAllocator kvMemory) {
        CpuEngineConfig config = CpuEngineConfig.fromMap(options.engineOptions());
        String id = options.workerId() != null ? options.workerId() : model.name();
        CpuEngine engine = CpuEngine.open(model.gguf(), model.name(), model.tokenizer().endOfGenerationIds(), config, id,
                events, kvMemory);
        LOG.log(System.Logger.Level.INFO, "cpu engine for {0}: {1} threads, KV cache {2} blocks of {3} tokens ({4} MiB, {5})",
                model.name(), config.threads(), engine.kvLayout().numBlocks(), engine.kvLayout().blockSize(),
                engine.kvLayout().totalBytes() >> 20, engine.kvLayout().type());
        return engine;
    }

    /**
     * The simulated engine over the model's real vocabulary: never samples control tokens, ends on its EOG ids. It runs
     * the real scheduler and prefix cache, so it publishes KV events like the cpu engine.
     */
    static Engine simulated(LoadedModel model, WorkerOptions options, KvEventSink events) {
        Tokenizer tok = model.tokenizer();
        EngineInfo info = new EngineInfo(model.name(), tok.vocabSize(), model.config().contextLength(), BlockHasher.DEFAULT_BLOCK_SIZE);
        String id = options.workerId() != null ? options.workerId() : model.name();
        return new SimulatedEngine(info, t -> !tok.isControl(t), tok.endOfGenerationIds(),
                SimConfig.fromMap(options.engineOptions()), SimClock.SYSTEM, id, events);
    }
}
