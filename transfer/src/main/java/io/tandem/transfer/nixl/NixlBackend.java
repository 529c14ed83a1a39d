package io.tandem.transfer.nixl;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferOp;

import java.io.File;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Detection of NIXL, nothing more. NIXL exports only a C++ API; its plain C API ({@code nixl_capi_*}) exists only in
 * the wrapper of NIXL's Rust bindings, built there as a static library and not installed. Java can call it once that
 * wrapper is built as a shared library ({@value #CAPI_LIBRARY}) beside {@value #LIBRARY}; until then this backend
 * reports precisely what is missing and refuses to be constructed rather than pretending to move bytes.
 */
public final class NixlBackend implements TransferBackend {
    public static final String NAME = "nixl";
    static final String LIBRARY = "libnixl.so";
    static final String CAPI_LIBRARY = "libnixl_capi.so";
    static final String CAPI_PROBE_SYMBOL = "nixl_capi_create_agent";

    public NixlBackend(TransferContext ctx) {
        throw new TransferException(unavailableReason().orElse("the NIXL backend is not implemented yet (only detected)"));
    }

    /** Why NIXL cannot be used here; empty only once both libraries load. Never throws. */
    public static Optional<String> unavailableReason() {
        return unavailableReason(searchPath());
    }

    static Optional<String> unavailableReason(List<Path> searchPath) {
        try {
            if (!loads(LIBRARY, searchPath)) {
                return Optional.of("NIXL is not installed: " + LIBRARY + " not found (searched java.library.path, LD_LIBRARY_PATH and the system linker path)");
            }
            Optional<SymbolLookup> capi = lookup(CAPI_LIBRARY, searchPath);
            if (capi.isEmpty()) {
                return Optional.of("NIXL is installed but its C API is not: " + CAPI_LIBRARY + " not found (NIXL exports only C++;"
                        + " build the nixl_capi wrapper of NIXL's Rust bindings as a shared library)");
            }
            if (capi.get().find(CAPI_PROBE_SYMBOL).isEmpty()) {
                return Optional.of(CAPI_LIBRARY + " lacks " + CAPI_PROBE_SYMBOL);
            }
            return Optional.of("NIXL and its C API are present, but Tandem's NIXL backend only detects them so far");
        } catch (Throwable t) {
            return Optional.of("NIXL detection failed: " + t);
        }
    }

    private static boolean loads(String library, List<Path> searchPath) {
        return lookup(library, searchPath).isPresent();
    }

    /** The library from the first directory of the search path that has it, else from the system linker path. */
    private static Optional<SymbolLookup> lookup(String library, List<Path> searchPath) {
        for (Path dir : searchPath) {
            Path candidate = dir.resolve(library);
            if (Files.isRegularFile(candidate)) {
                try {
                    return Optional.of(SymbolLookup.libraryLookup(candidate, Arena.global()));
                } catch (IllegalArgumentException notLoadable) {
                    // e.g. a broken or foreign-arch file: keep looking
                }
            }
        }
        try {
            return Optional.of(SymbolLookup.libraryLookup(library, Arena.global()));
        } catch (IllegalArgumentException notFound) {
            return Optional.empty();
        }
    }

    private static List<Path> searchPath() {
        List<Path> dirs = new ArrayList<>();
        for (String p : List.of(System.getProperty("java.library.path", ""), System.getenv().getOrDefault("LD_LIBRARY_PATH", ""))) {
            for (String d : p.split(File.pathSeparator)) if (!d.isBlank()) dirs.add(Path.of(d));
        }
        return dirs;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void register(RegisteredRegion region) {
        throw new TransferException("NIXL backend is unavailable");
    }

    @Override
    public byte[] payload() {
        return new byte[0];
    }

    @Override
    public boolean canReach(AgentMetadata self, AgentMetadata peer) {
        return false;
    }

    @Override
    public void loadPeer(AgentMetadata peer) {
        throw new TransferException("NIXL backend is unavailable");
    }

    @Override
    public void forgetPeer(String agent) {
    }

    @Override
    public CompletableFuture<Void> transfer(TransferOp op, List<MemoryDescriptor> local, List<MemorySegment> localSlices,
                                            AgentMetadata peer, List<MemoryDescriptor> remote) {
        return CompletableFuture.failedFuture(new TransferException("NIXL backend is unavailable"));
    }

    @Override
    public void close() {
    }
}
