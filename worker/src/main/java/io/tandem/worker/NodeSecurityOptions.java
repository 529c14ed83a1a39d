package io.tandem.worker;

import io.tandem.launcher.options.OptionValues;
import io.tandem.launcher.options.Program;
import io.tandem.launcher.options.TandemOptions;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.protocol.auth.TlsFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A node's {@link NodeSecurity} from its options, for gateway and worker alike: the secret from
 * {@code --cluster-secret-file}, else from {@code TANDEM_CLUSTER_SECRET}; TLS from {@code --tls-cert},
 * {@code --tls-key} and {@code --tls-ca} (all three or none); {@code --insecure-transfer} (workers). Every error names
 * the flag or variable to fix.
 */
public final class NodeSecurityOptions {
    private NodeSecurityOptions() {
    }

    /** @param env the process environment ({@code System.getenv()}; tests pass their own) */
    public static NodeSecurity resolve(OptionValues v, Map<String, String> env) {
        boolean insecure = v.program() == Program.WORKER && v.get(TandemOptions.INSECURE_TRANSFER);
        return new NodeSecurity(secret(v.get(TandemOptions.CLUSTER_SECRET_FILE), env), insecure,
                tls(v.get(TandemOptions.TLS_CERT), v.get(TandemOptions.TLS_KEY), v.get(TandemOptions.TLS_CA)));
    }

    /** The secret in {@code file}, else in the environment, else null. */
    static ClusterSecret secret(Path file, Map<String, String> env) {
        String flag = TandemOptions.CLUSTER_SECRET_FILE.flag();
        if (file != null) {
            try {
                return ClusterSecret.fromFile(file);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
            }
        }
        String text = env.get(ClusterSecret.ENV);
        if (text == null || text.isBlank()) return null;
        try {
            return ClusterSecret.of(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ClusterSecret.ENV + ": " + e.getMessage() + " (set a longer one, or give " + flag + ")", e);
        }
    }

    /** Mutual TLS from the three PEM files, or null when none is given. */
    static TlsFiles tls(Path cert, Path key, Path ca) {
        if (cert == null && key == null && ca == null) return null;
        List<String> missing = new ArrayList<>();
        if (cert == null) missing.add(TandemOptions.TLS_CERT.flag());
        if (key == null) missing.add(TandemOptions.TLS_KEY.flag());
        if (ca == null) missing.add(TandemOptions.TLS_CA.flag());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("--tls-cert, --tls-key and --tls-ca go together; missing: " + String.join(", ", missing));
        }
        readable(TandemOptions.TLS_CERT.flag(), cert);
        readable(TandemOptions.TLS_KEY.flag(), key);
        readable(TandemOptions.TLS_CA.flag(), ca);
        return new TlsFiles(cert, key, ca);
    }

    private static void readable(String flag, Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new IllegalArgumentException(flag + ": " + file + " is not a readable file");
        }
    }
}
