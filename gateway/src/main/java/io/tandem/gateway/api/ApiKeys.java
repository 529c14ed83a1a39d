package io.tandem.gateway.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Bearer API keys, for HTTP's {@code Authorization} header and gRPC's {@code authorization} metadata alike. Keys are
 * compared as SHA-256 digests with {@link MessageDigest#isEqual} (constant time, and the digest hides the key length),
 * against every configured key.
 */
public final class ApiKeys {

    private static final String BEARER = "bearer ";
    private final List<byte[]> keyDigests;

    /** @param keys the accepted keys; none means no authentication */
    public ApiKeys(List<String> keys) {
        this.keyDigests = keys.stream().map(ApiKeys::sha256).toList();
    }

    /** Whether requests must present a key. */
    public boolean required() {
        return !keyDigests.isEmpty();
    }

    /**
     * Checks an {@code Authorization} value ({@code Bearer <key>}, or null when absent).
     *
     * @param how how the client should send its key, for the error message (e.g. "'Authorization: Bearer <key>'")
     * @throws ApiException 401 when a key is required and this one is missing or wrong
     */
    public void check(String authorization, String how) {
        if (!required()) return;
        if (authorization == null || authorization.length() <= BEARER.length()
                || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw ApiException.unauthorized("Missing API key: send " + how);
        }
        byte[] presented = sha256(authorization.substring(BEARER.length()).trim());
        boolean ok = false;
        for (byte[] key : keyDigests) ok |= MessageDigest.isEqual(key, presented);
        if (!ok) throw ApiException.unauthorized("Incorrect API key provided");
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
