package io.tandem.transfer.nixl;

import io.tandem.transfer.BackendAvailability;
import io.tandem.transfer.nativelib.NixlHome;
import io.tandem.transfer.nativelib.UcpLibrary;
import io.tandem.transfer.ucx.UcxBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How NIXL is found, and what happens without it or with the wrong UCX already loaded; each case in a child JVM with
 * its own environment (NIXL and UCX load once per process).
 */
class NixlLocationTest {

    /** Runs {@link NixlProbeMain} with {@code env} changes (null value: removed) and returns its output. */
    private static String probe(Map<String, String> env, String... args) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp", cp,
                NixlProbeMain.class.getName()));
        cmd.addAll(args.length == 0 ? List.of("probe") : List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove(NixlHome.ENV);
        pb.environment().remove("LD_LIBRARY_PATH");
        pb.environment().remove("NIXL_PLUGIN_DIR");
        pb.environment().remove(BackendAvailability.REQUIRE_NIXL);
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe did not end");
        return new String(out, StandardCharsets.UTF_8);
    }

    /** The configured NIXL home; skips without one (fails instead with TANDEM_REQUIRE_NIXL=1, as CI runs). */
    private static NixlHome home() {
        Optional<NixlHome> h = NixlHome.configured().filter(x -> x.problem().isEmpty());
        if (h.isEmpty() && "1".equals(System.getenv(BackendAvailability.REQUIRE_NIXL))) {
            throw new AssertionError("nixl is required in this run but no NIXL home is configured (" + NixlHome.ENV + ")");
        }
        assumeTrue(h.isPresent(), "no NIXL home configured (" + NixlHome.ENV + ")");
        return h.get();
    }

    @Test
    void withoutNixlTheReasonSaysHowToGetIt() throws Exception {
        String out = probe(Map.of());
        assertTrue(out.contains("NIXL NIXL not found: libnixl_capi.so is not on the library path and neither --nixl-home nor "
                + NixlHome.ENV + " is set; install NIXL"), out);
        assertTrue(out.contains("--nixl-home PREFIX"), out);
    }

    @Test
    void aHomeThatIsNotNixlIsNamed(@TempDir Path dir) throws Exception {
        String out = probe(Map.of(NixlHome.ENV, dir.toString()));
        assertTrue(out.contains("NIXL NIXL not found: --nixl-home (" + NixlHome.PROPERTY + " / " + NixlHome.ENV + "): " + dir
                + " has no libnixl_capi.so"), out);
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        out = probe(Map.of(NixlHome.ENV, file.toString()));
        assertTrue(out.contains(file + " is not a directory"), out);
    }

    @Test
    void theEnvironmentVariableFindsNixlAndSetsItsPluginDirectory() throws Exception {
        NixlHome h = home();
        Map<String, String> env = new HashMap<>(Map.of(NixlHome.ENV, h.prefix().toString()));
        env.put("NIXL_PLUGIN_DIR", null);
        assertEquals("NIXL available\nNIXL_PLUGIN_DIR=" + h.pluginDir(), probe(env).strip(), "NIXL_PLUGIN_DIR is set when unset");
        env.put("NIXL_PLUGIN_DIR", h.pluginDir() + "/.");
        assertEquals("NIXL available\nNIXL_PLUGIN_DIR=" + h.pluginDir() + "/.", probe(env).strip(), "the user's NIXL_PLUGIN_DIR stays");
    }

    @Test
    void theStandardLibraryPathFindsNixlToo() throws Exception {
        NixlHome h = home();
        String out = probe(Map.of("LD_LIBRARY_PATH", h.ucxDir() + ":" + h.libDir(), "NIXL_PLUGIN_DIR", h.pluginDir().toString()));
        assertEquals("NIXL available\nNIXL_PLUGIN_DIR=" + h.pluginDir(), out.strip());
    }

    /**
     * The trap: the ucx backend loaded the linker's UCX (Debian's 1.13) before NIXL's home was known. NIXL's plugin
     * would be linked to that UCX; NIXL is refused, saying why, instead.
     */
    @Test
    void nixlIsRefusedWhereTheUcxBackendAlreadyLoadedAnotherUcx() throws Exception {
        String out = probe(Map.of(), "ucx-then-nixl", home().prefix().toString());
        assumeTrue(out.startsWith("UCX available UCX 1.13"), () -> "the linker's UCX is not Debian's 1.13: " + out);
        assertTrue(out.contains("NIXL NIXL cannot run in this process: it already uses UCX 1.13"), out);
        assertTrue(out.contains("Give --nixl-home (or " + NixlHome.ENV + ") when the process starts"), out);
    }

    /** With the home known from the start, the ucx backend runs on NIXL's UCX, in the same process as NIXL. */
    @Test
    void withAHomeTheUcxBackendUsesNixlsUcx() {
        NixlHome h = home();
        assertEquals(Optional.empty(), NixlBackend.unavailableReason());
        assertEquals(Optional.empty(), UcxBackend.unavailableReason());
        UcpLibrary.Ucp ucp = UcpLibrary.get();
        assertTrue(ucp.atLeast(1, 22), ucp.toString());
        assertTrue(ucp.file().toString().startsWith(h.ucxDir().toString()), ucp.toString());
    }
}
