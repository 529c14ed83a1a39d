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

    /** Stops intake, fails in-flight streams with UNAVAILABLE, deregisters, closes the engine. */
    public Future<Void> undeploy(Vertx vertx) {
        return vertx.undeploy(deploymentId);
    }
}
