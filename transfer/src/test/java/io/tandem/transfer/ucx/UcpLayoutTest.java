package io.tandem.transfer.ucx;

import io.tandem.transfer.nativelib.UcpLibrary;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ucx backend binds only the UCX layouts it was checked against (1.13 to 1.22) and names any other. */
class UcpLayoutTest {

    private static UcpLibrary.Ucp ucx(int major, int minor) {
        return new UcpLibrary.Ucp(Path.of("/x/libucp.so.0"), major, minor, 0, null, null);
    }

    @Test
    void checkedVersionsAreTakenOthersRefusedWithTheReason() {
        assertEquals(Optional.empty(), UcpLayout.checked(ucx(1, 13)));
        assertEquals(Optional.empty(), UcpLayout.checked(ucx(1, 22)));
        String why = UcpLayout.checked(ucx(1, 23)).orElseThrow();
        assertTrue(why.contains("UCX 1.23.0 (/x/libucp.so.0)") && why.contains("checked against UCX 1.13 to 1.22"), why);
        assertTrue(UcpLayout.checked(ucx(1, 12)).isPresent());
        assertTrue(UcpLayout.checked(ucx(2, 0)).isPresent());
    }
}
