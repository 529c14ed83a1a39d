package io.tandem.transfer.control;

import java.util.concurrent.CompletableFuture;

/** The agent's control connections to loaded peers, (re)connected on demand; fails fast when a peer is unreachable. */
@FunctionalInterface
public interface PeerConnections {
    CompletableFuture<ControlConnection> connection(String peer);
}
