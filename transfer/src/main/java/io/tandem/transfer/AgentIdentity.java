package io.tandem.transfer;

import io.vertx.core.json.JsonObject;

import java.security.SecureRandom;
import java.util.Objects;

/**
 * Who an agent is, beyond its name: the worker it serves, the cluster member (Hazelcast member UUID) it runs in, and
 * its epoch, a random number drawn when the process starts. Two agents with the same name but different epochs are
 * different incarnations: a peer that reaches the wrong worker, or a stale one, sees it in the handshake.
 *
 * @param workerId the worker's id
 * @param memberId the cluster member UUID, or {@code null} (tests, embedded agents without a cluster)
 * @param epoch    random per process start, never 0
 */
public record AgentIdentity(String workerId, String memberId, long epoch) {
    private static final SecureRandom RANDOM = new SecureRandom();

    public AgentIdentity {
        Objects.requireNonNull(workerId, "workerId");
        if (epoch == 0) throw new IllegalArgumentException("an agent's epoch must not be 0");
    }

    /** An identity with a fresh random epoch: create one per process start and keep it. */
    public static AgentIdentity of(String workerId, String memberId) {
        return new AgentIdentity(workerId, memberId, newEpoch());
    }

    /** A random non-zero epoch. */
    public static long newEpoch() {
        long e;
        do {
            e = RANDOM.nextLong();
        } while (e == 0);
        return e;
    }

    /** Whether {@code other} is the same incarnation: same worker and epoch, same member when both name one. */
    public boolean sameAs(AgentIdentity other) {
        return other != null && workerId.equals(other.workerId) && epoch == other.epoch
                && (memberId == null || other.memberId == null || memberId.equals(other.memberId));
    }

    public JsonObject toJson() {
        JsonObject o = new JsonObject().put("worker_id", workerId).put("epoch", Long.toUnsignedString(epoch, 16));
        if (memberId != null) o.put("member_id", memberId);
        return o;
    }

    public static AgentIdentity fromJson(JsonObject o) {
        return new AgentIdentity(o.getString("worker_id"), o.getString("member_id"), Long.parseUnsignedLong(o.getString("epoch"), 16));
    }

    /** For messages: {@code worker w (member m) epoch 1a2b...}. */
    @Override
    public String toString() {
        return "worker " + workerId + (memberId == null ? "" : " (member " + memberId + ")") + " epoch " + Long.toUnsignedString(epoch, 16);
    }
}
