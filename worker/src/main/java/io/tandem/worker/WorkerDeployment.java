package io.tandem.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.registry.WorkerRegistry;
import io.tandem.worker.engine.EngineFactory;
import io.tandem.worker.engine.ModelEngines;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.micrometer.backends.BackendRegistries;

/**
 * Deploys workers into a Vert.x instance — what {@code worker.jar} does once clustered, and what
 * the gateway's embedded mode does in its own JVM:
 * <pre>{@code
 * ProtocolCodecs.registerAll(vertx.eventBus());   // done by the worker too; idempotent
 * DeployedWorker decode = WorkerDeployment.deploy(vertx, registry,
 *         WorkerOptions.defaults(WorkerRole.DECODE).withModelPath(path).withoutHttp()).await();
 * ...
 * decode.undeploy(vertx);
 * }</pre>
 */
public final class WorkerDeployment {
    private WorkerDeployment() {}

    /** Deploys with the model engines and the Vert.x default meter registry (a private Prometheus one if there is none). */
    public static Future<DeployedWorker> deploy(Vertx vertx, WorkerRegistry registry, WorkerOptions options) {
        return deploy(vertx, registry, options, null, new ModelEngines());
    }

    public static Future<DeployedWorker> deploy(Vertx vertx, WorkerRegistry registry, WorkerOptions options, MeterRegistry meters) {
        return deploy(vertx, registry, options, meters, new ModelEngines());
    }

    /**
     * @param meters  where the worker's meters go (and what its /metrics serves); null for the
     *                Vert.x default registry, else a private Prometheus registry
     * @param engines how the engine is made (tests pass a small simulated one)
     */
    public static Future<DeployedWorker> deploy(Vertx vertx, WorkerRegistry registry, WorkerOptions options,
                                                MeterRegistry meters, EngineFactory engines) {
        return deploy(vertx, registry, options, meters, engines, io.tandem.worker.disagg.PrefillFaults.NONE);
    }

    /** With faults injected into the prefill role (tests reproduce slow or partitioned machines with them). */
    public static Future<DeployedWorker> deploy(Vertx vertx, WorkerRegistry registry, WorkerOptions options,
                                                MeterRegistry meters, EngineFactory engines,
                                                io.tandem.worker.disagg.PrefillFaults faults) {
        WorkerVerticle verticle = new WorkerVerticle(options, registry, engines, meters != null ? meters : defaultMeters(), faults);
        return vertx.deployVerticle(verticle).map(id -> new DeployedWorker(id, verticle));
    }

    static MeterRegistry defaultMeters() {
        MeterRegistry shared = BackendRegistries.getDefaultNow();
        return shared != null ? shared : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }
}
