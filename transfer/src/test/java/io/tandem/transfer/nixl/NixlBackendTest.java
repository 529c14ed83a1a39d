package io.tandem.transfer.nixl;

import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NixlBackendTest {

    @Test
    void reportsThatNixlIsNotInstalledAndRefusesToStart() {
        Optional<String> reason = NixlBackend.unavailableReason();
        assertTrue(reason.isPresent());
        assertTrue(reason.get().startsWith("NIXL is not installed: libnixl.so not found"), reason.get());
        TransferException e = assertThrows(TransferException.class,
                () -> new NixlBackend(new TransferContext(TransferConfig.of("nixl", "a"), null, null)));
        assertEquals(reason.get(), e.getMessage());
    }

    @Test
    void aFileThatIsNotALibraryIsReportedAsMissingNotACrash(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("libnixl.so"), "not an ELF file");
        Optional<String> reason = NixlBackend.unavailableReason(List.of(dir));
        assertTrue(reason.orElseThrow().contains("libnixl.so not found"), reason.get());
    }

    @Test
    void nixlWithoutItsCApiSaysSo(@TempDir Path dir) throws Exception {
        // any loadable shared library stands in for libnixl.so: only the C API shim is then missing
        Files.copy(Path.of("/usr/lib/x86_64-linux-gnu/libz.so.1"), dir.resolve("libnixl.so"));
        Optional<String> reason = NixlBackend.unavailableReason(List.of(dir));
        assertTrue(reason.orElseThrow().contains("libnixl_capi.so not found"), reason.get());
    }
}
