package io.tandem.transfer.control;

import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.transfer.AgentIdentity;
import io.tandem.transfer.Notification;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * What an agent's accepting side needs to serve a control connection.
 *
 * @param agent            this agent's name
 * @param identity         this agent's identity, presented in the HELLO
 * @param secret           the cluster secret peers must prove, or {@code null}
 * @param requireFences    refuse WRITEs without a granted fence token
 * @param memory           this agent's registered regions
 * @param fences           the grants writes are checked against
 * @param shmProof         whether a nonce a peer read from this agent's shm probe file is the one written there
 * @param notifications    where received notifications go
 * @param refusals         refused connections are counted here
 * @param handshakeTimeout a connection not authenticated by then is closed
 */
public record Served(String agent, AgentIdentity identity, ClusterSecret secret, boolean requireFences, LocalMemory memory,
                     FenceTable fences, Predicate<byte[]> shmProof, Consumer<Notification> notifications,
                     Refusals refusals, Duration handshakeTimeout) {
}
