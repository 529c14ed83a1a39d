package io.tandem.transfer;

import java.util.Optional;

/** Why a backend built elsewhere (ucx, nixl) cannot be used in this test run, or empty when it can. */
final class BackendAvailability {
    private BackendAvailability() {
    }

    @SuppressWarnings("unchecked")
    static Optional<String> unavailable(String backend) {
        String cls = switch (backend) {
            case "ucx" -> "io.tandem.transfer.ucx.UcxBackend";
            case "nixl" -> "io.tandem.transfer.nixl.NixlBackend";
            default -> null;
        };
        if (cls == null) return Optional.empty();
        try {
            return (Optional<String>) Class.forName(cls).getMethod("unavailableReason").invoke(null);
        } catch (ReflectiveOperationException e) {
            return Optional.of(cls + " not on the classpath");
        }
    }
}
