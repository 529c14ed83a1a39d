package io.tandem.gateway.embedded;

import io.micrometer.core.instrument.MeterRegistry;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.WorkerRegistry;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The workers of embedded mode: for each served model one prefill and one decode worker,
 * deployed into the gateway's own Vert.x and registered in its local registry. They run no HTTP
 * server of their own; their meters go to the gateway's /metrics.
 *
 * <p>Until remote prefill exists the decode worker prefills locally (the aggregated fallback);
 * the prefill worker registers with role PREFILL and takes no generate requests.
 */
public final class EmbeddedWorkers {

    private static final System.Logger log = System.getLogger(EmbeddedWorkers.class.getName());

    private EmbeddedWorkers() {}

    public static Future<List<DeployedWorker>> deploy(Vertx vertx, WorkerRegistry registry, List<Path> models, String engine,
                                                      Map<String, Object> engineOptions, MeterRegistry meters) {
        List<DeployedWorker> deployed = new ArrayList<>();
        Future<Void> chain = Future.succeededFuture();
        for (Path model : models) {
            for (WorkerRole role : List.of(WorkerRole.PREFILL, WorkerRole.DECODE)) {
                WorkerOptions options = WorkerOptions.defaults(role).withModelPath(model).withEngine(engine, engineOptions).withoutHttp();
                chain = chain.compose(v -> WorkerDeployment.deploy(vertx, registry, options, meters)
                        .map(w -> {
                            deployed.add(w);
                            return null;
                        }));
            }
        }
        return chain.map(v -> {
            for (DeployedWorker w : deployed) {
                log.log(System.Logger.Level.INFO, "embedded {0} worker {1} serves ''{2}'' on engine {3}",
                        w.record().role().name().toLowerCase(), w.workerId(), w.record().model(), engine);
            }
            log.log(System.Logger.Level.INFO, "embedded mode: the decode worker prefills locally; "
                    + "the prefill worker is registered but idle until remote prefill (KV transfer) lands");
            return List.copyOf(deployed);
        }).recover(err -> undeploy(vertx, deployed).transform(ignored -> Future.failedFuture(err)));
    }

    public static Future<Void> undeploy(Vertx vertx, List<DeployedWorker> workers) {
        List<Future<Void>> all = new ArrayList<>();
        for (DeployedWorker w : workers) all.add(w.undeploy(vertx).recover(e -> Future.succeededFuture()));
        return Future.join(all).mapEmpty();
    }
}
