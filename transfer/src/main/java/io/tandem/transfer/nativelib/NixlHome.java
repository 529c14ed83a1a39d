package io.tandem.transfer.nativelib;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where NIXL is installed, as {@code build-nixl.sh PREFIX} lays it out: NIXL's libraries and {@code plugins/} in
 * {@code PREFIX/lib/x86_64-linux-gnu}, the UCX and Abseil it was built with in {@code PREFIX/lib}. Set by
 * {@code --nixl-home DIR} (the system property {@value #PROPERTY}), else by the environment variable {@value #ENV};
 * with neither, NIXL is looked up on the standard library path ({@code LD_LIBRARY_PATH}, the system linker's).
 */
public record NixlHome(Path prefix) {
    public static final String PROPERTY = "tandem.nixl.home";
    public static final String ENV = "TANDEM_NIXL_HOME";
    public static final String CAPI_LIBRARY = "libnixl_capi.so";

    public NixlHome {
        prefix = prefix.toAbsolutePath().normalize();
    }

    /** {@code --nixl-home} (property {@value #PROPERTY}), else {@code $TANDEM_NIXL_HOME}; blank counts as unset. */
    public static Optional<NixlHome> configured() {
        return configured(System.getProperty(PROPERTY), System.getenv(ENV));
    }

    static Optional<NixlHome> configured(String property, String env) {
        String dir = property != null && !property.isBlank() ? property : env;
        return dir == null || dir.isBlank() ? Optional.empty() : Optional.of(new NixlHome(Path.of(dir.strip())));
    }

    /**
     * Makes {@code prefix} this process's NIXL home ({@code --nixl-home}): NIXL and UCX load once per process, so this
     * comes before either is loaded. The same home again changes nothing; another one is refused.
     */
    public static synchronized void use(Path prefix) {
        String dir = prefix.toAbsolutePath().normalize().toString();
        String current = System.getProperty(PROPERTY);
        if (current != null && !current.isBlank() && !Path.of(current.strip()).toAbsolutePath().normalize().toString().equals(dir)) {
            throw new IllegalStateException("--nixl-home " + dir + ": this process already uses the NIXL home " + current);
        }
        System.setProperty(PROPERTY, dir);
    }

    /** The directory that holds {@value #CAPI_LIBRARY}: {@code lib/x86_64-linux-gnu} (meson's), else {@code lib64}, else {@code lib}. */
    public Path libDir() {
        for (String d : List.of("lib/x86_64-linux-gnu", "lib64", "lib")) {
            Path dir = prefix.resolve(d);
            if (Files.isRegularFile(dir.resolve(CAPI_LIBRARY))) return dir;
        }
        return prefix.resolve("lib/x86_64-linux-gnu");
    }

    public Path capiLibrary() {
        return libDir().resolve(CAPI_LIBRARY);
    }

    /** NIXL's backend plugins ({@code libplugin_UCX.so}): what {@code NIXL_PLUGIN_DIR} names. */
    public Path pluginDir() {
        return libDir().resolve("plugins");
    }

    /** Where the UCX (and Abseil) NIXL was built with live. */
    public Path ucxDir() {
        return prefix.resolve("lib");
    }

    /** Where NIXL's libraries' dependencies are looked for when the library path does not name them. */
    public List<Path> libraryDirs() {
        return List.of(libDir(), ucxDir());
    }

    /** Why this is not a NIXL installation, or empty. */
    public Optional<String> problem() {
        if (!Files.isDirectory(prefix)) return Optional.of(prefix + " is not a directory");
        if (!Files.isRegularFile(capiLibrary())) {
            return Optional.of(prefix + " has no " + CAPI_LIBRARY + " (looked in lib/x86_64-linux-gnu, lib64 and lib)");
        }
        return Optional.empty();
    }

    /** How to get NIXL, for messages that refuse to go on without it. */
    public static String howToGet() {
        return "install NIXL (1.4, with its UCX plugin; the README's NIXL section says how to build it) and pass --nixl-home"
                + " PREFIX (or set " + ENV + "=PREFIX), or put PREFIX/lib and PREFIX/lib/x86_64-linux-gnu on LD_LIBRARY_PATH";
    }
}
