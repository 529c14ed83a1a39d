package io.tandem.transfer.nativelib;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Loading native libraries from a prefix that is not on the library path, and the process environment they read.
 * {@code LD_LIBRARY_PATH} is read once, when the JVM starts, so {@code --nixl-home} cannot add to it: instead a
 * library's dependencies that the linker misses are loaded first, by absolute path, from the prefix's directories.
 * The linker then finds them already loaded (it matches dependencies by soname).
 */
public final class NativeLibraries {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle DLOPEN = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("dlopen"),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle DLERROR = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("dlerror"),
            FunctionDescriptor.of(ADDRESS));
    private static final MethodHandle SETENV = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("setenv"),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle GETENV = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("getenv"),
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final int RTLD_NOW = 2;
    /** glibc's dlerror text for a dependency it could not find. */
    private static final Pattern MISSING = Pattern.compile("^(\\S+): cannot open shared object file");
    private static final int MAX_DEPENDENCIES = 256;

    private NativeLibraries() {
    }

    /**
     * Loads {@code library} (an absolute path), first loading from {@code dirs} every dependency the linker does not
     * find on its own path. Throws {@link IllegalStateException} with the linker's message when that is not enough.
     */
    public static SymbolLookup load(Path library, List<Path> dirs) {
        int[] budget = {MAX_DEPENDENCIES};
        open(library, dirs, budget);
        return SymbolLookup.libraryLookup(library, Arena.global());
    }

    private static void open(Path library, List<Path> dirs, int[] budget) {
        while (true) {
            String error = dlopen(library);
            if (error == null) return;
            Matcher m = MISSING.matcher(error);
            if (!m.find()) throw new IllegalStateException("cannot load " + library + ": " + error);
            Optional<Path> dependency = find(m.group(1), dirs);
            if (dependency.isEmpty() || dependency.get().equals(library) || --budget[0] < 0) {
                throw new IllegalStateException("cannot load " + library + ": " + error + " (and " + m.group(1)
                        + " is not in " + dirs + ")");
            }
            open(dependency.get(), dirs, budget);
        }
    }

    private static Optional<Path> find(String soname, List<Path> dirs) {
        if (soname.contains("/")) return Optional.empty();
        return dirs.stream().map(d -> d.resolve(soname)).filter(Files::isRegularFile).findFirst();
    }

    /** dlopen's error, or null when the library is loaded (it stays loaded: NIXL and UCX live as long as the process). */
    private static String dlopen(Path library) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) DLOPEN.invokeExact(a.allocateFrom(library.toString()), RTLD_NOW);
            if (!handle.equals(MemorySegment.NULL)) return null;
            MemorySegment error = (MemorySegment) DLERROR.invokeExact();
            return error.equals(MemorySegment.NULL) ? "dlopen failed" : error.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("dlopen " + library + ": " + t, t);
        }
    }

    /** Sets {@code name} in the process environment (which native libraries read) unless it is set already. */
    public static void setenvIfUnset(String name, String value) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) SETENV.invokeExact(a.allocateFrom(name), a.allocateFrom(value), 0);
        } catch (Throwable t) {
            throw new IllegalStateException("setenv " + name + ": " + t, t);
        }
    }

    /** The process environment's {@code name} as native code sees it (System.getenv is the JVM's start-up copy). */
    public static Optional<String> getenv(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = (MemorySegment) GETENV.invokeExact(a.allocateFrom(name));
            return v.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(v.reinterpret(65536).getString(0));
        } catch (Throwable t) {
            throw new IllegalStateException("getenv " + name + ": " + t, t);
        }
    }

    /** The file this process mapped for the library whose file name starts with {@code prefix} (from /proc/self/maps). */
    public static Optional<Path> mapped(String prefix) {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(l -> l.indexOf('/') < 0 ? null : Path.of(l.substring(l.indexOf('/'))))
                    .filter(p -> p != null && p.getFileName() != null && p.getFileName().toString().startsWith(prefix))
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
