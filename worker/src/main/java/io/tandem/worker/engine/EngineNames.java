package io.tandem.worker.engine;

import java.util.List;

/** The engines a worker can run, by the name {@code --engine} takes. */
public final class EngineNames {
    /** Real inference on the CPU: the default. */
    public static final String CPU = "cpu";
    /** Timing model without weights, for load tests of the serving layers and scale tests. */
    public static final String SIM = "sim";
    public static final String DEFAULT = CPU;
    public static final List<String> AVAILABLE = List.of(CPU, SIM);

    private EngineNames() {}

    /** Throws a clear error, listing the available engines, for a name that does not exist. */
    public static void check(String name) {
        if (!AVAILABLE.contains(name)) {
            throw new IllegalArgumentException("unknown engine '" + name + "'; available engines: " + String.join(", ", AVAILABLE));
        }
    }
}
