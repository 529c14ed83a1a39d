package io.tandem.transfer;

import java.util.Map;

/**
 * An agent's security counters since it opened, a snapshot.
 *
 * @param refusedConnections control connections refused, by reason (every reason of {@link #REASONS} is present,
 *                           0 until it happens, so meters can be registered up front)
 * @param fencedWrites       incoming writes dropped by fencing: a token not granted for the target bytes, revoked, or
 *                           missing while fences are required (the same count as {@link WriteFences#fenced()})
 */
public record TransferStats(Map<String, Long> refusedConnections, long fencedWrites) {

    /**
     * The reasons a connection is refused. Accepting side: {@code no_secret} (the peer has no cluster secret, this
     * agent requires one), {@code unexpected_secret} (the peer has one, this agent has none), {@code bad_mac} (wrong
     * secret), {@code frame_before_handshake}, {@code malformed} (garbage, a bad or oversized handshake),
     * {@code timeout} (no handshake in time), {@code tls} (a failed TLS handshake: no or a foreign certificate,
     * plaintext). Connecting side: {@code bad_proof} (the peer did not prove the secret), {@code identity_mismatch}
     * (the address reached another agent or incarnation than the metadata names).
     */
    public static final java.util.List<String> REASONS = java.util.List.of("no_secret", "unexpected_secret", "bad_mac",
            "frame_before_handshake", "malformed", "timeout", "tls", "bad_proof", "identity_mismatch");

    public TransferStats {
        refusedConnections = Map.copyOf(refusedConnections);
    }

    /** Refusals for one reason. */
    public long refused(String reason) {
        return refusedConnections.getOrDefault(reason, 0L);
    }

    /** Refusals for every reason together. */
    public long refusedTotal() {
        return refusedConnections.values().stream().mapToLong(Long::longValue).sum();
    }
}
