package io.tandem.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The small model that ships inside the jar ({@value #NAME}, Q8_0). GGUF files are memory-mapped, so the
 * resource is extracted once to {@code ${java.io.tmpdir}/tandem-model-<sha256 prefix>/} and reused by later
 * runs when a file of the right size is already there.
 */
public final class BundledModel {
    public static final String NAME = "tandem-fortune-5m";
    public static final String FILE_NAME = NAME + "-q8_0.gguf";
    static final String RESOURCE = "/io/tandem/model/bundled/" + FILE_NAME;

    private static volatile Path cached;

    private BundledModel() {
    }

    /** Path of the extracted bundled model file (extracting it on first use). */
    public static Path path() {
        Path p = cached;
        if (p != null && Files.isRegularFile(p)) return p;
        synchronized (BundledModel.class) {
            if (cached == null || !Files.isRegularFile(cached)) {
                try {
                    cached = extract(Path.of(System.getProperty("java.io.tmpdir")));
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot extract the bundled model " + FILE_NAME, e);
                }
            }
            return cached;
        }
    }

    /** Extracts the resource under {@code baseDir}, reusing a complete earlier extraction. */
    static Path extract(Path baseDir) throws IOException {
        URL url = BundledModel.class.getResource(RESOURCE);
        if (url == null) throw new IOException("resource " + RESOURCE + " is not on the classpath");
        // Hash the resource (7 MB, tens of ms) so a different build of the model never reuses a stale file.
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long size;
        try (InputStream in = new DigestInputStream(url.openStream(), sha)) {
            size = in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        String digest = HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        Path dir = baseDir.resolve("tandem-model-" + digest);
        Path target = dir.resolve(FILE_NAME);
        if (Files.isRegularFile(target) && Files.size(target) == size) return target;
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, FILE_NAME, ".part");
        try {
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            if (Files.size(tmp) != size) throw new IOException("short write extracting " + FILE_NAME + " to " + tmp);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return target;
    }
}
