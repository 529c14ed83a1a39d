package io.tandem.transfer.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The one UCX ({@code libucp.so.0}) of this process. Tandem's ucx backend binds it by hand and NIXL's UCX plugin links
 * against it, and both get the same copy whatever they asked for: the dynamic linker loads a soname once per process
 * and gives that first copy to everyone after. So the first load decides, and it is made here: with NIXL configured
 * ({@link NixlHome}) the UCX NIXL was built with ({@code PREFIX/lib}, by absolute path), otherwise whichever
 * {@code libucp.so.0} the linker finds (Debian's libucx0, or one on {@code LD_LIBRARY_PATH}).
 */
public final class UcpLibrary {

    /** The loaded library: its file, version ({@code ucp_get_version}) and symbols. */
    public record Ucp(Path file, int major, int minor, int release, SymbolLookup ucp, SymbolLookup ucs) {
        public boolean atLeast(int major, int minor) {
            return this.major > major || this.major == major && this.minor >= minor;
        }

        public String version() {
            return major + "." + minor + "." + release;
        }

        @Override
        public String toString() {
            return "UCX " + version() + " (" + file + ")";
        }
    }

    private static Ucp loaded;

    private UcpLibrary() {
    }

    /** Loads this process's UCX on first use (see the class comment). Throws {@link IllegalStateException} saying why not. */
    public static synchronized Ucp get() {
        if (loaded == null) loaded = load(NixlHome.configured().map(NixlHome::ucxDir).map(d -> d.resolve("libucp.so.0"))
                .filter(Files::isRegularFile));
        return loaded;
    }

    /** The UCX loaded through here so far, if any (NIXL without a configured home loads its own). */
    public static synchronized Optional<Ucp> ifLoaded() {
        return Optional.ofNullable(loaded);
    }

    private static Ucp load(Optional<Path> file) {
        keepUcxOffJvmSignals();
        SymbolLookup ucp, ucs;
        try {
            if (file.isPresent()) {
                ucp = NativeLibraries.load(file.get(), java.util.List.of(file.get().getParent()));
                ucs = SymbolLookup.libraryLookup(file.get().resolveSibling("libucs.so.0"), Arena.global());
            } else {
                ucp = SymbolLookup.libraryLookup("libucp.so.0", Arena.global());
                ucs = SymbolLookup.libraryLookup("libucs.so.0", Arena.global());
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new IllegalStateException("cannot load " + file.map(Path::toString).orElse("libucp.so.0") + ": " + e.getMessage(), e);
        }
        Linker linker = Linker.nativeLinker();
        MethodHandle getVersion = linker.downcallHandle(ucp.find("ucp_get_version")
                        .orElseThrow(() -> new IllegalStateException("libucp.so.0 lacks ucp_get_version")),
                FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT, 3);
            getVersion.invokeExact(v, v.asSlice(4), v.asSlice(8));
            Path where = NativeLibraries.mapped("libucp.so").orElse(file.orElse(Path.of("libucp.so.0")));
            return new Ucp(where, v.getAtIndex(JAVA_INT, 0), v.getAtIndex(JAVA_INT, 1), v.getAtIndex(JAVA_INT, 2), ucp, ucs);
        } catch (Throwable t) {
            throw new IllegalStateException("ucp_get_version failed: " + t, t);
        }
    }

    /**
     * libucs installs SIGSEGV/SIGBUS/SIGILL/SIGFPE handlers when it loads (UCX_ERROR_SIGNALS), which steal the signals
     * the JVM raises on purpose (implicit null checks, safepoint polls) and kill it. Unless the user set it, the
     * variable is cleared before libucs is loaded, which is when it reads it (by the ucx backend or by NIXL's plugin).
     */
    public static void keepUcxOffJvmSignals() {
        NativeLibraries.setenvIfUnset("UCX_ERROR_SIGNALS", "");
    }
}
