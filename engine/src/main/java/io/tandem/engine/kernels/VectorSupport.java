package io.tandem.engine.kernels;

/**
 * Loads the Vector API kernels reflectively so that no class touching {@code jdk.incubator.vector} is loaded when
 * the JVM runs without {@code --add-modules jdk.incubator.vector}.
 */
final class VectorSupport {
    private static final String IMPL = "io.tandem.engine.kernels.VectorKernels";
    private static final Kernels KERNELS;
    private static final String REASON;

    static {
        Kernels k = null;
        String reason = null;
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            reason = "module jdk.incubator.vector is not loaded (run with --add-modules jdk.incubator.vector)";
        } else {
            try {
                Class<?> c = Class.forName(IMPL);
                if ((boolean) c.getDeclaredMethod("supported").invoke(null)) {
                    k = (Kernels) c.getDeclaredConstructor().newInstance();
                } else {
                    reason = "the preferred float species has " + c.getDeclaredMethod("lanes").invoke(null)
                            + " lanes; the kernels need 8 or 16";
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                reason = "cannot load the Vector API kernels: " + e;
            }
        }
        KERNELS = k;
        REASON = reason;
    }

    private VectorSupport() {
    }

    static Kernels kernels() {
        return KERNELS;
    }

    static String unavailableReason() {
        return REASON;
    }
}
