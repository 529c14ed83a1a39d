package io.tandem.protocol.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;

/**
 * The secret every member of one Tandem cluster shares. Data-plane peers (transfer control connections, a worker's
 * {@code GET /route}) prove they know it with HMAC-SHA256 challenge-responses before any KV moves; the secret itself
 * never crosses the wire. Immutable and thread-safe; {@link #toString} never shows the key.
 */
public final class ClusterSecret {
    /** The environment variable a secret may come from (the file flag wins). */
    public static final String ENV = "TANDEM_CLUSTER_SECRET";
    /** Shorter secrets are refused: they would be guessable offline from one captured exchange. */
    public static final int MIN_BYTES = 16;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALGORITHM = "HmacSHA256";

    private final byte[] key;

    private ClusterSecret(byte[] key) {
        if (key.length < MIN_BYTES) {
            throw new IllegalArgumentException("a cluster secret needs at least " + MIN_BYTES + " bytes, got " + key.length);
        }
        this.key = key.clone();
    }

    /** A fresh random secret (embedded mode: nothing to configure, nothing outside the JVM knows it). */
    public static ClusterSecret random() {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        return new ClusterSecret(k);
    }

    /** The UTF-8 bytes of {@code text}, surrounding whitespace removed. */
    public static ClusterSecret of(String text) {
        return new ClusterSecret(text.strip().getBytes(StandardCharsets.UTF_8));
    }

    /** The file's content, surrounding whitespace (a trailing newline) removed. */
    public static ClusterSecret fromFile(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read the cluster secret file " + file + ": " + e.getMessage(), e);
        }
        try {
            return of(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cluster secret file " + file + ": " + e.getMessage());
        }
    }

    /** The secret in {@link #ENV}, if set and not blank. */
    public static Optional<ClusterSecret> fromEnvironment() {
        String v = System.getenv(ENV);
        if (v == null || v.isBlank()) return Optional.empty();
        try {
            return Optional.of(of(v));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ENV + ": " + e.getMessage());
        }
    }

    /** A random nonce for a challenge (32 bytes). */
    public static byte[] nonce() {
        byte[] n = new byte[32];
        RANDOM.nextBytes(n);
        return n;
    }

    /**
     * HMAC-SHA256 of {@code purpose} and {@code parts}, each length-prefixed so that no two different inputs hash alike.
     * The purpose keeps a MAC made for one step of a protocol from being replayed as another.
     */
    public byte[] mac(String purpose, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(key, ALGORITHM));
            update(mac, purpose.getBytes(StandardCharsets.UTF_8));
            for (byte[] p : parts) update(mac, p);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    /** Whether {@code mac} is {@link #mac(String, byte[]...)} of the same input, in constant time. */
    public boolean verify(byte[] mac, String purpose, byte[]... parts) {
        return mac != null && MessageDigest.isEqual(mac, mac(purpose, parts));
    }

    /** A string as a MAC part. */
    public static byte[] bytes(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    /** A long as a MAC part. */
    public static byte[] bytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    private static void update(Mac mac, byte[] part) {
        mac.update(ByteBuffer.allocate(4).putInt(part.length).array());
        mac.update(part);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClusterSecret other && MessageDigest.isEqual(key, other.key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(mac("hash-code"));
    }

    @Override
    public String toString() {
        return "ClusterSecret[redacted]";
    }
}
