package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Bearer API keys. Keys are compared as SHA-256 digests with {@link MessageDigest#isEqual}
 * (constant time, and the digest hides the key length), against every configured key.
 */
final class ApiKeyAuth implements Handler<RoutingContext> {

    private static final String BEARER = "bearer ";
    private final List<byte[]> keyDigests;

    ApiKeyAuth(List<String> keys) {
        this.keyDigests = keys.stream().map(ApiKeyAuth::sha256).toList();
    }

    @Override
    public void handle(RoutingContext ctx) {
        String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || header.length() <= BEARER.length()
                || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            ctx.fail(ApiException.unauthorized("Missing API key: send 'Authorization: Bearer <key>'"));
            return;
        }
        byte[] presented = sha256(header.substring(BEARER.length()).trim());
        boolean ok = false;
        for (byte[] key : keyDigests) ok |= MessageDigest.isEqual(key, presented);
        if (ok) ctx.next();
        else ctx.fail(ApiException.unauthorized("Incorrect API key provided"));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
