package io.tandem.platform;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/** glibc functions for the FFM calls of this package. */
final class Libc {
    private Libc() {
    }

    /**
     * A downcall to the C library's {@code name}, or null where there is none: not Linux/glibc, or native access
     * refused. Callers then leave the system as it is.
     */
    static MethodHandle function(String name, FunctionDescriptor descriptor) {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find(name).map(s -> linker.downcallHandle(s, descriptor)).orElse(null);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }
}
