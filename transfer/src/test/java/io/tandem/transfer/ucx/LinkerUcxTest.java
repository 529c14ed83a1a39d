package io.tandem.transfer.ucx;

import io.tandem.transfer.nativelib.NixlHome;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The ucx backend on the UCX the linker finds (Debian's libucx0 on a plain install), in a child JVM without a NIXL
 * home: a run with NIXL configured (as CI's) otherwise tests the ucx backend only on NIXL's UCX.
 */
class LinkerUcxTest {

    @Test
    void theUcxBackendMovesBytesOnTheLinkersUcx() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", cp,
                LinkerUcxMain.class.getName()).redirectErrorStream(true);
        pb.environment().remove(NixlHome.ENV);
        pb.environment().remove("LD_LIBRARY_PATH");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the child did not end");
        String text = new String(out, StandardCharsets.UTF_8);
        List<String> lines = text.lines().filter(l -> l.startsWith("backend ")).toList();
        assumeTrue(!text.contains("ucx backend unavailable"), () -> "no UCX on the linker path: " + text);
        assertTrue(lines.size() == 1 && lines.get(0).startsWith("backend ucx UCX ") && lines.get(0).endsWith("intact true"), text);
        System.out.println("linker UCX: " + lines.get(0));
    }
}
