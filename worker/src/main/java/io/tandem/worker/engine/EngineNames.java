package io.tandem.worker.engine;

import java.util.List;

/** The engines a worker can run, by the name {@code --engine} takes. */
public final class EngineNames {
    /** Only the simulated engine for now; the transformer engine comes next. */
    public static final List<String> AVAILABLE = List.of("sim");

    private EngineNames() {}

    /** Throws a clear error, listing the available engines, for a name that does not exist. */
    public static void check(String name) {
        if (!AVAILABLE.contains(name)) {
            throw new IllegalArgumentException("unknown engine '" + name + "'; available engines: " + String.join(", ", AVAILABLE));
        }
    }
}
