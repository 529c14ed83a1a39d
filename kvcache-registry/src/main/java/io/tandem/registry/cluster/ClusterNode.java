package io.tandem.registry.cluster;

import com.hazelcast.core.HazelcastInstance;
import io.tandem.registry.HazelcastWorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * A started cluster member: its clustered Vert.x, the Hazelcast instance under it, and its
 * worker registry.
 */
public record ClusterNode(Vertx vertx, HazelcastInstance hazelcast, HazelcastWorkerRegistry registry) {

    /** This member's id (Hazelcast member UUID); records registered here carry it. */
    public String nodeId() {
        return registry.nodeId();
    }

    /**
     * Deregisters this node's workers, then leaves the cluster and closes Vert.x. Vert.x is
     * closed from a plain thread: closed from one of its own event loops, the close future would
     * be completed on a loop that is shutting down and never fire.
     */
    public Future<Void> close() {
        Promise<Void> closed = Promise.promise();
        registry.close().onComplete(ignored -> Thread.ofPlatform().name("tandem-cluster-close").start(
                () -> vertx.close().onComplete(closed)));
        return closed.future();
    }
}
