package io.tandem.protocol.auth;

/**
 * How a node protects the cluster's data plane.
 *
 * @param secret           the cluster secret (HMAC challenge-response on transfer connections and {@code /route}),
 *                         or null when none was configured
 * @param insecureTransfer without a secret, still take part in remote prefill (unauthenticated data plane); ignored
 *                         when a secret is set
 * @param tls              mutual TLS for the event bus and the transfer control channel, or null for plaintext
 */
public record NodeSecurity(ClusterSecret secret, boolean insecureTransfer, TlsFiles tls) {

    /** No secret, no TLS, remote prefill refused: what a clustered node gets when nothing is configured. */
    public static final NodeSecurity NONE = new NodeSecurity(null, false, null);

    /** One JVM: a random secret no one else knows, so there is nothing to configure. */
    public static NodeSecurity embedded() {
        return new NodeSecurity(ClusterSecret.random(), false, null);
    }

    /** Whether this node may send or receive KV over the network. */
    public boolean transferAllowed() {
        return secret != null || insecureTransfer;
    }

    public NodeSecurity withSecret(ClusterSecret s) {
        return new NodeSecurity(s, insecureTransfer, tls);
    }

    public NodeSecurity withTls(TlsFiles t) {
        return new NodeSecurity(secret, insecureTransfer, t);
    }

    public NodeSecurity withInsecureTransfer(boolean on) {
        return new NodeSecurity(secret, on, tls);
    }
}
