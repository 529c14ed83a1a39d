package io.tandem.worker.disagg;

/**
 * A peer's bootstrap or transfer handshake names another worker, member or epoch than the registry says — a
 * misadvertised address (a wildcard that leads back to the requester itself), a restarted worker, or an impostor.
 * Nothing is transferred; the decode worker prefills locally.
 */
public final class PeerMismatchException extends IllegalStateException {
    public PeerMismatchException(String message) {
        super(message);
    }

    public PeerMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
