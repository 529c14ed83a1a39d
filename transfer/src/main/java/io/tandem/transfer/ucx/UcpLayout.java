package io.tandem.transfer.ucx;

import io.tandem.transfer.nativelib.UcpLibrary;

import java.util.Optional;

/**
 * The UCX versions {@link Ucp}'s struct offsets were checked against (offsetof in the headers of each): 1.13.1,
 * Debian's libucx0, and 1.22.0, the UCX NIXL is built with. The fields used sit at the same offsets in both, and UCX
 * only appends fields in between; a version outside the range is refused rather than guessed at.
 */
final class UcpLayout {
    static final int MAJOR = 1, OLDEST_MINOR = 13, NEWEST_MINOR = 22;

    private UcpLayout() {
    }

    /** Why the bindings do not fit {@code library}, or empty when its layout was checked. */
    static Optional<String> checked(UcpLibrary.Ucp library) {
        if (library.major() == MAJOR && library.minor() >= OLDEST_MINOR && library.minor() <= NEWEST_MINOR) return Optional.empty();
        return Optional.of("this process loaded " + library + ", but the ucx backend's struct layouts were checked against UCX "
                + MAJOR + "." + OLDEST_MINOR + " to " + MAJOR + "." + NEWEST_MINOR + " only; use one of those (Debian's libucx0 is"
                + " 1.13, build-nixl.sh builds 1.22), or another transfer backend");
    }
}
