package io.tandem.transfer.nativelib;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NixlHomeTest {

    @Test
    void thePropertyWinsOverTheEnvironmentAndBlankIsUnset() {
        assertEquals(Optional.of(new NixlHome(Path.of("/opt/a"))), NixlHome.configured("/opt/a", "/opt/b"));
        assertEquals(Optional.of(new NixlHome(Path.of("/opt/b"))), NixlHome.configured(" ", "/opt/b"));
        assertEquals(Optional.empty(), NixlHome.configured(null, ""));
        assertEquals(Optional.empty(), NixlHome.configured(null, null));
    }

    @Test
    void theLayoutIsBuildNixlShs(@TempDir Path prefix) throws Exception {
        NixlHome home = new NixlHome(prefix);
        assertTrue(home.problem().orElseThrow().contains("has no libnixl_capi.so"));
        Path lib = Files.createDirectories(prefix.resolve("lib/x86_64-linux-gnu"));
        Files.writeString(lib.resolve(NixlHome.CAPI_LIBRARY), "");
        assertEquals(Optional.empty(), home.problem());
        assertEquals(lib, home.libDir());
        assertEquals(lib.resolve("plugins"), home.pluginDir());
        assertEquals(prefix.resolve("lib"), home.ucxDir());
        assertEquals(List.of(lib, prefix.resolve("lib")), home.libraryDirs());
    }

    @Test
    void aLibraryWhoseDependencyIsNowhereIsReportedWithTheLinkersWords(@TempDir Path dir) {
        Path missing = dir.resolve("libnothing.so");
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> NativeLibraries.load(missing, List.of(dir)));
        assertTrue(e.getMessage().contains("cannot open shared object file"), e.getMessage());
    }
}
