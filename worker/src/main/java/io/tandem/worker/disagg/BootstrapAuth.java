package io.tandem.worker.disagg;

import io.tandem.protocol.auth.ClusterSecret;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mutual HMAC challenge-response for a worker's transfer bootstrap ({@code GET /route}), whose answer hands out what
 * reaches the worker's KV memory (the agent's address, UCX rkeys). Two round trips, the secret never on the wire:
 * <ol>
 *   <li>{@code GET /route} → 401 with {@code WWW-Authenticate: Tandem-HMAC challenge="S"}: a single-use server nonce;</li>
 *   <li>{@code GET /route} with {@code Authorization: Tandem-HMAC challenge="S", nonce="C", worker="ID", mac="M"},
 *   M = HMAC(secret, S, C, ID) → 200 and {@code X-Tandem-Proof: HMAC(secret, C, S, sha256(body))}, so the requester
 *   knows the answer comes from a member of its cluster and was not altered.</li>
 * </ol>
 * Pure logic, no I/O; the server side is used on one event loop, the client side is static.
 */
public final class BootstrapAuth {
    public static final String SCHEME = "Tandem-HMAC";
    public static final String PROOF_HEADER = "X-Tandem-Proof";
    static final int MAX_OUTSTANDING = 1024;
    static final long CHALLENGE_TTL_MILLIS = 30_000;
    private static final String REQUEST = "tandem-route-request";
    private static final String RESPONSE = "tandem-route-response";
    private static final Pattern PARAM = Pattern.compile("(\\w+)=\"([^\"]*)\"");
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    /** What the server concluded about one request. */
    public sealed interface Verdict {
        /** The requester proved it knows the secret; {@link #proof} signs the answer for it. */
        record Accepted(String requester, byte[] challenge, byte[] clientNonce) implements Verdict {
        }

        /** Refused, with a metric label and a message for the log and the 401 body. */
        record Refused(String reason, String message) implements Verdict {
        }
    }

    private final ClusterSecret secret;
    /** Outstanding challenges (base64) and when they were issued, oldest first. */
    private final Map<String, Long> issued = new LinkedHashMap<>();

    public BootstrapAuth(ClusterSecret secret) {
        this.secret = secret;
    }

    /** Whether requests must authenticate (a secret is configured). */
    public boolean required() {
        return secret != null;
    }

    /** A fresh single-use challenge, as the value of {@code WWW-Authenticate}. */
    public String challenge(long nowMillis) {
        expire(nowMillis);
        while (issued.size() >= MAX_OUTSTANDING) { // a flood of unanswered challenges only pushes out the oldest
            Iterator<String> it = issued.keySet().iterator();
            it.next();
            it.remove();
        }
        String c = B64.encodeToString(ClusterSecret.nonce());
        issued.put(c, nowMillis);
        return SCHEME + " challenge=\"" + c + "\"";
    }

    /** Checks an {@code Authorization} header (null when absent); an accepted challenge cannot be used again. */
    public Verdict check(String authorization, long nowMillis) {
        expire(nowMillis);
        if (authorization == null || authorization.isBlank()) return new Verdict.Refused("missing", "authentication required");
        if (!authorization.startsWith(SCHEME + " ")) return new Verdict.Refused("scheme", "expected the " + SCHEME + " scheme");
        Map<String, String> p = params(authorization);
        String challenge = p.get("challenge"), nonce = p.get("nonce"), worker = p.get("worker"), mac = p.get("mac");
        if (challenge == null || nonce == null || worker == null || mac == null) {
            return new Verdict.Refused("malformed", "the Authorization header lacks challenge, nonce, worker or mac");
        }
        if (issued.remove(challenge) == null) return new Verdict.Refused("stale_challenge", "unknown, used or expired challenge");
        byte[] s, c, m;
        try {
            s = B64D.decode(challenge);
            c = B64D.decode(nonce);
            m = B64D.decode(mac);
        } catch (IllegalArgumentException e) {
            return new Verdict.Refused("malformed", "bad base64 in the Authorization header");
        }
        if (!secret.verify(m, REQUEST, s, c, ClusterSecret.bytes(worker))) {
            return new Verdict.Refused("bad_mac", "wrong cluster secret");
        }
        return new Verdict.Accepted(worker, s, c);
    }

    /** The {@link #PROOF_HEADER} value for the answer {@code body} to an accepted request. */
    public String proof(Verdict.Accepted a, byte[] body) {
        return B64.encodeToString(secret.mac(RESPONSE, a.clientNonce(), a.challenge(), sha256(body)));
    }

    /** A requester's answer to a challenge: the {@code Authorization} value and the nonce it must remember. */
    public record Answer(String authorization, byte[] challenge, byte[] clientNonce) {
    }

    /** Answers the {@code WWW-Authenticate} value of a 401 as worker {@code requester}. */
    public static Answer answer(ClusterSecret secret, String wwwAuthenticate, String requester) {
        if (wwwAuthenticate == null || !wwwAuthenticate.startsWith(SCHEME + " ")) {
            throw new IllegalArgumentException("the peer did not offer " + SCHEME + " authentication: " + wwwAuthenticate);
        }
        String challenge = params(wwwAuthenticate).get("challenge");
        if (challenge == null) throw new IllegalArgumentException("the peer's challenge is missing");
        byte[] s = B64D.decode(challenge), c = ClusterSecret.nonce();
        String mac = B64.encodeToString(secret.mac(REQUEST, s, c, ClusterSecret.bytes(requester)));
        return new Answer(SCHEME + " challenge=\"" + challenge + "\", nonce=\"" + B64.encodeToString(c) + "\", worker=\""
                + requester + "\", mac=\"" + mac + "\"", s, c);
    }

    /** Whether {@code proofHeader} proves that {@code body} answers {@code answer} and comes from a cluster member. */
    public static boolean verifyProof(ClusterSecret secret, Answer answer, String proofHeader, byte[] body) {
        if (proofHeader == null) return false;
        try {
            return secret.verify(B64D.decode(proofHeader.strip()), RESPONSE, answer.clientNonce(), answer.challenge(), sha256(body));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private void expire(long now) {
        issued.values().removeIf(at -> now - at > CHALLENGE_TTL_MILLIS);
    }

    private static Map<String, String> params(String header) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = PARAM.matcher(header);
        while (m.find()) out.put(m.group(1), m.group(2));
        return out;
    }

    private static byte[] sha256(byte[] body) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(body);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
