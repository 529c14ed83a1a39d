package io.tandem.transfer;

import io.tandem.protocol.auth.TlsFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Throwaway PEM certificates for TLS tests, made by the {@code openssl} CLI at test time (the JDK cannot sign
 * certificates by itself): a CA, and member certificates it signs.
 */
public final class TestCertificates {
    private TestCertificates() {
    }

    /** Whether the {@code openssl} CLI runs here (tests skip with that reason otherwise). */
    public static boolean available() {
        try {
            return new ProcessBuilder("openssl", "version").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** A CA named {@code ca} in {@code dir}: ca.pem, ca.key. */
    public static void ca(Path dir, String ca) throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "1", "-subj", "/CN=" + ca);
    }

    /** A member certificate {@code name} signed by {@code ca}, trusting the CA {@code trusted}. */
    public static TlsFiles member(Path dir, String name, String ca, String trusted) throws Exception {
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name);
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "1");
        return new TlsFiles(dir.resolve(name + ".pem"), dir.resolve(name + ".key"), dir.resolve(trusted + ".pem"));
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(cmd + " failed: " + out);
    }
}
