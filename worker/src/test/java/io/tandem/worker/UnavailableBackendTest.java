package io.tandem.worker;

import io.tandem.transfer.BackendAvailability;
import io.tandem.transfer.nativelib.NixlHome;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --transfer nixl} where NIXL is not installed stops the worker at startup, saying how to get NIXL; it never
 * falls back to another backend. In a child JVM without NIXL (NIXL loads once per process).
 */
class UnavailableBackendTest {

    @Test
    void nixlWithoutNixlStopsTheWorkerSayingHowToGetIt() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED", "--add-modules",
                "jdk.incubator.vector", "-Xmx512m", "-cp", cp, TransferStartProbe.class.getName(), "nixl")).redirectErrorStream(true);
        pb.environment().remove(NixlHome.ENV);
        pb.environment().remove("LD_LIBRARY_PATH");
        pb.environment().remove(BackendAvailability.REQUIRE_NIXL);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the probe did not end");
        assertTrue(out.contains("FAILED --transfer nixl cannot start: nixl backend unavailable: NIXL not found: libnixl_capi.so is"
                + " not on the library path"), out);
        assertTrue(out.contains("pass --nixl-home PREFIX (or set TANDEM_NIXL_HOME=PREFIX)"), out);
        assertTrue(!out.contains("DEPLOYED"), out);
    }
}
