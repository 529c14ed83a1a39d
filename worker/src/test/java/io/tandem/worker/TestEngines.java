package io.tandem.worker;

import io.tandem.engine.EngineInfo;
import io.tandem.engine.sim.SimConfig;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.protocol.ClusterContract;
import io.tandem.worker.engine.EngineFactory;
import io.tandem.worker.engine.LoadedEngine;

/** A simulated engine over a made-up vocabulary (ids 0..2 are control tokens, 2 ends generation). */
final class TestEngines {
    static final String MODEL = "test-model";
    static final EngineInfo INFO = new EngineInfo(MODEL, 1000, 4096, 16);
    /** What a worker on this engine states: a simulated engine holds no KV. */
    static final ClusterContract CONTRACT = ClusterContract.of("test-model-fingerprint", INFO.blockSize(),
            ClusterContract.NO_KV, ClusterContract.NO_KV);

    private TestEngines() {}

    static EngineFactory sim(SimConfig config) {
        return options -> new LoadedEngine(new SimulatedEngine(INFO, id -> id >= 3, new int[] {2}, config), MODEL, null, CONTRACT);
    }

    /** A decode step of {@code stepMillis}, no EOS: requests run exactly to max_tokens. */
    static SimConfig steady(double stepMillis) {
        return new SimConfig(0, (long) (stepMillis * 1_000_000), 0, 0, 64, 256, 0);
    }
}
