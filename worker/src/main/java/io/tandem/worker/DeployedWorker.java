package io.tandem.worker;

import io.tandem.engine.Engine;
import io.tandem.protocol.WorkerRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** A running worker verticle: its deployment id and what it registered. */
public record DeployedWorker(String deploymentId, WorkerVerticle verticle) {

    public String workerId() {
        return verticle.workerId();
    }

    public WorkerRecord record() {
        return verticle.record();
    }

    /** Port of its HTTP server (health, metrics), 0 when it runs none. */
    public int httpPort() {
        return verticle.record().httpPort();
    }

    public Engine engine() {
        return verticle.engine();
    }

    /**
     * The graceful part of a stop ({@link WorkerVerticle#drain}): reported draining, no new work, running streams
     * finish within {@code timeout} and the rest are handed over with DRAINING. Undeploy afterwards.
     */
    public Future<WorkerVerticle.DrainReport> drain(java.time.Duration timeout) {
        return verticle.drain(timeout);
    }

    /** Stops intake, fails in-flight streams with UNAVAILABLE, deregisters, closes the engine. */
    public Future<Void> undeploy(Vertx vertx) {
        return vertx.undeploy(deploymentId);
    }
}
