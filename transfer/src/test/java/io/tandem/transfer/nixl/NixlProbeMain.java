package io.tandem.transfer.nixl;

import io.tandem.transfer.nativelib.NativeLibraries;
import io.tandem.transfer.nativelib.NixlHome;
import io.tandem.transfer.nativelib.UcpLibrary;
import io.tandem.transfer.ucx.UcxBackend;

/**
 * Run in a child JVM by {@link NixlLocationTest}: prints what this process finds. {@code probe}: NIXL's availability
 * and NIXL_PLUGIN_DIR as native code sees it.
 * {@code ucx-then-nixl HOME}: the ucx backend first (the linker's UCX), then NIXL from HOME, the two-UCX trap.
 */
public final class NixlProbeMain {
    public static void main(String[] args) {
        switch (args[0]) {
            case "probe" -> {
                System.out.println("NIXL " + NixlBackend.unavailableReason().orElse("available"));
                System.out.println("NIXL_PLUGIN_DIR=" + NativeLibraries.getenv("NIXL_PLUGIN_DIR").orElse(""));
            }
            case "ucx-then-nixl" -> {
                System.out.println("UCX " + UcxBackend.unavailableReason().orElse("available") + " " + UcpLibrary.get());
                System.setProperty(NixlHome.PROPERTY, args[1]);
                System.out.println("NIXL " + NixlBackend.unavailableReason().orElse("available"));
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
