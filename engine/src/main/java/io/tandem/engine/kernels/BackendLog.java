package io.tandem.engine.kernels;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Logs each kernel backend a JVM uses once: INFO, or WARN when scalar kernels run although nobody asked for them. */
final class BackendLog {
    private static final System.Logger LOG = System.getLogger(Kernels.class.getName());
    private static final Set<KernelBackend> LOGGED = ConcurrentHashMap.newKeySet();

    private BackendLog() {
    }

    static void once(KernelMode mode, KernelBackend backend) {
        if (!LOGGED.add(backend)) return;
        boolean fellBack = !backend.isVector() && mode != KernelMode.SCALAR;
        System.Logger.Level level = fellBack ? System.Logger.Level.WARNING : System.Logger.Level.INFO;
        LOG.log(level, "CPU kernels: " + backend.describe());
    }
}
