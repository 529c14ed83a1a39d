package io.tandem.transfer;

import io.tandem.transfer.nixl.NixlBackend;
import io.tandem.transfer.ucx.UcxBackend;

import io.tandem.transfer.nativelib.NixlHome;

import java.util.List;
import java.util.Optional;

/**
 * Why a backend that binds native libraries (ucx, nixl) cannot be used in this test run, or empty when it can; a test
 * that needs it skips with that reason (printed, and in the report). With {@value #REQUIRE_NIXL}=1 in the environment
 * (CI, which builds NIXL) a missing NIXL fails the test instead.
 */
public final class BackendAvailability {
    public static final String REQUIRE_NIXL = "TANDEM_REQUIRE_NIXL";

    private BackendAvailability() {
    }

    public static Optional<String> unavailable(String backend) {
        Optional<String> why = switch (backend) {
            case UcxBackend.NAME -> UcxBackend.unavailableReason();
            case NixlBackend.NAME -> NixlBackend.unavailableReason();
            default -> Optional.empty();
        };
        if (why.isPresent() && backend.equals(NixlBackend.NAME) && "1".equals(System.getenv(REQUIRE_NIXL))) {
            throw new AssertionError("nixl is required in this run (" + REQUIRE_NIXL + "=1) but unavailable: " + why.get());
        }
        why.ifPresent(w -> System.out.println("skipping " + backend + ": " + w));
        return why;
    }

    /** JVM flags that give a test's child JVM the NIXL this one uses (it inherits the environment, not properties). */
    public static List<String> childJvmFlags() {
        String home = System.getProperty(NixlHome.PROPERTY);
        return home == null || home.isBlank() ? List.of() : List.of("-D" + NixlHome.PROPERTY + "=" + home);
    }
}
