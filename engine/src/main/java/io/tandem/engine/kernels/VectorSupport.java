package io.tandem.engine.kernels;

import java.lang.module.ModuleFinder;

/**
 * Loads the Vector API kernels reflectively so that no class touching {@code jdk.incubator.vector} is loaded when
 * the JVM runs without {@code --add-modules jdk.incubator.vector}, and says why they are unavailable and what fixes
 * it. The answer is the JVM's and does not change while it runs.
 */
final class VectorSupport {
    static final String MODULE = "jdk.incubator.vector";
    private static final String IMPL = "io.tandem.engine.kernels.VectorKernels";
    private static final Kernels KERNELS;
    private static final int LANES;
    private static final String REASON;
    private static final String FIX;

    static {
        Kernels k = null;
        int lanes = 0;
        String reason = null, fix = null;
        if (ModuleLayer.boot().findModule(MODULE).isEmpty()) {
            if (ModuleFinder.ofSystem().find(MODULE).isPresent()) {
                reason = "this JVM was started without the " + MODULE + " module (the Vector API), and scalar kernels "
                        + "are 10-30x slower";
                fix = "start java with --add-modules " + MODULE + " --enable-native-access=ALL-UNNAMED (worker.jar and "
                        + "gateway.jar relaunch themselves with these flags unless TANDEM_RELAUNCH=0 or "
                        + "-Dtandem.relaunch=false is set)";
            } else {
                reason = "this Java runtime has no " + MODULE + " module (a jlink image without it?), and scalar "
                        + "kernels are 10-30x slower";
                fix = "run on a full JDK or JRE 25, or add " + MODULE + " to jlink's --add-modules, then start java with "
                        + "--add-modules " + MODULE;
            }
        } else {
            try {
                Class<?> c = Class.forName(IMPL);
                lanes = (int) c.getDeclaredMethod("lanes").invoke(null);
                if ((boolean) c.getDeclaredMethod("supported").invoke(null)) {
                    k = (Kernels) c.getDeclaredConstructor().newInstance();
                } else {
                    reason = "the CPU's preferred float vector has " + lanes + " lanes; the vector kernels need 8 or 16";
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                reason = "cannot load the Vector API kernels: " + e;
            }
        }
        KERNELS = k;
        LANES = lanes;
        REASON = reason;
        FIX = fix;
    }

    private VectorSupport() {
    }

    static Kernels kernels() {
        return KERNELS;
    }

    /** Float lanes of the vector kernels (0 when the module is not loaded). */
    static int lanes() {
        return LANES;
    }

    static String unavailableReason() {
        return REASON;
    }

    /** What makes the vector kernels available, or null when nothing can (or nothing needs to). */
    static String fix() {
        return FIX;
    }
}
