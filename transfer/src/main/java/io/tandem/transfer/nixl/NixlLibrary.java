package io.tandem.transfer.nixl;

import io.tandem.transfer.TransferException;
import io.tandem.transfer.nativelib.NativeLibraries;
import io.tandem.transfer.nativelib.NixlHome;
import io.tandem.transfer.nativelib.UcpLibrary;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds and loads NIXL's C API once per process: from {@link NixlHome} (then {@code NIXL_PLUGIN_DIR} is set to its
 * plugins when unset, and its UCX becomes the process's UCX before NIXL's plugin links one), else from the standard
 * library path. Refuses, with the reason, a process whose UCX is already another one (the two-UCX trap: NIXL's plugin
 * would be linked to the UCX the ucx backend loaded).
 */
final class NixlLibrary {
    /** The UCX NIXL 1.4 is built and tested with. */
    static final int UCX_MAJOR = 1, UCX_MINOR = 22;

    private static NixlApi api;

    private NixlLibrary() {
    }

    /** The bound C API; a {@link TransferException} saying why not and how to get NIXL otherwise. */
    static synchronized NixlApi get() {
        if (api == null) api = load(NixlHome.configured());
        return api;
    }

    private static NixlApi load(Optional<NixlHome> home) {
        home.flatMap(NixlHome::problem).ifPresent(p -> {
            throw new TransferException("NIXL not found: --nixl-home (" + NixlHome.PROPERTY + " / " + NixlHome.ENV + "): " + p
                    + "; " + NixlHome.howToGet());
        });
        // the C API and NIXL's core link no UCX (only the UCX plugin, loaded when a backend is created): safe to load first
        SymbolLookup capi;
        try {
            capi = home.isPresent() ? null : SymbolLookup.libraryLookup(NixlHome.CAPI_LIBRARY, Arena.global());
        } catch (IllegalArgumentException notOnPath) {
            throw new TransferException("NIXL not found: " + NixlHome.CAPI_LIBRARY + " is not on the library path and neither"
                    + " --nixl-home nor " + NixlHome.ENV + " is set; " + NixlHome.howToGet());
        }
        ucxConflict(home).ifPresent(why -> {
            throw new TransferException(why);
        });
        UcpLibrary.keepUcxOffJvmSignals();
        if (home.isPresent()) {
            try {
                NativeLibraries.setenvIfUnset("NIXL_PLUGIN_DIR", home.get().pluginDir().toString());
                if (Files.isRegularFile(home.get().ucxDir().resolve("libucp.so.0"))) UcpLibrary.get();
                capi = NativeLibraries.load(home.get().capiLibrary(), home.get().libraryDirs());
            } catch (IllegalStateException e) {
                throw new TransferException("NIXL does not load: " + e.getMessage() + "; " + NixlHome.howToGet(), e);
            }
        }
        try {
            return new NixlApi(capi);
        } catch (IllegalStateException e) {
            throw new TransferException("NIXL's C API is incomplete: " + e.getMessage(), e);
        }
    }

    /**
     * Why NIXL cannot share this process's UCX, or empty. With a home: the process's UCX must be the home's (it is,
     * unless the ucx backend loaded another before the home was known). Without: a UCX the ucx backend already loaded
     * must be at least the one NIXL is built with.
     */
    static Optional<String> ucxConflict(Optional<NixlHome> home) {
        Optional<UcpLibrary.Ucp> loaded = UcpLibrary.ifLoaded();
        if (loaded.isEmpty()) return Optional.empty();
        UcpLibrary.Ucp ucp = loaded.get();
        if (home.isPresent() && Files.isRegularFile(home.get().ucxDir().resolve("libucp.so.0"))) {
            if (!under(ucp.file(), home.get().ucxDir())) {
                return Optional.of("NIXL cannot run in this process: it already uses " + ucp + " (loaded for the ucx backend"
                        + " before NIXL's home was known), and NIXL's UCX plugin would be linked to it instead of the UCX in "
                        + home.get().ucxDir() + ". Give --nixl-home (or " + NixlHome.ENV + ") when the process starts, so the ucx"
                        + " backend uses NIXL's UCX too, or run nixl and ucx in separate processes");
            }
        } else if (!ucp.atLeast(UCX_MAJOR, UCX_MINOR)) {
            return Optional.of("NIXL cannot run in this process: it already uses " + ucp + " (loaded for the ucx backend),"
                    + " older than the UCX " + UCX_MAJOR + "." + UCX_MINOR + " NIXL is built with, and NIXL's UCX plugin would be"
                    + " linked to it. Give --nixl-home so both use NIXL's UCX, or run nixl and ucx in separate processes");
        }
        return Optional.empty();
    }

    private static boolean under(Path file, Path dir) {
        try {
            return file.toRealPath().startsWith(dir.toRealPath());
        } catch (IOException e) {
            return file.startsWith(dir);
        }
    }
}
