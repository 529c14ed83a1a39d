package io.tandem.gateway.embedded;

import io.tandem.worker.disagg.DisaggregationOptions;

import io.micrometer.core.instrument.MeterRegistry;
import io.tandem.protocol.WorkerRole;
import io.tandem.protocol.auth.NodeSecurity;
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
 * The workers of embedded mode: for each served model {@code prefillWorkers} prefill workers and one decode worker
 * (or, with none, one worker doing both), deployed into the gateway's own Vert.x and registered in its local
 * registry. The decode worker sends prompts with more than {@code max_local_prefill_tokens} uncached tokens to a
 * prefill worker, whose KV comes back through the transfer agents (shm between workers of one process, by default).
 * They run no HTTP server of their own; their meters go to the gateway's /metrics. They share one {@code security}
 * (its secret authenticates their transfer connections, which listen on loopback).
 */
public final class EmbeddedWorkers {

    private static final System.Logger log = System.getLogger(EmbeddedWorkers.class.getName());
    /**
     * Cores from which embedded mode disaggregates by default. Below, prefill and decode workers would share the same
     * few cores, so a prefill worker only takes compute from the decodes and from its own prompts; one aggregated worker
     * that schedules decodes first within a step latency target gives the higher goodput, with lower TTFT and more
     * throughput (measured on 2 cores, docs/BENCHMARKS.md). With more cores the memory-bound decodes leave compute idle
     * that a prefill worker uses.
     */
    public static final int DISAGGREGATED_FROM_CORES = 8;

    private EmbeddedWorkers() {}

    /** The default of {@code --prefill-workers} on a machine with {@code cores} cores: 0 (aggregated) below 8, else 1. */
    public static int defaultPrefillWorkers(int cores) {
        return cores < DISAGGREGATED_FROM_CORES ? 0 : 1;
    }

    /**
     * The default of {@code --event-loops} on a machine with {@code cores} cores: 1 below
     * {@link #DISAGGREGATED_FROM_CORES}, else 0 (Vert.x's 2 per core). With the compute threads on every core, more
     * event loops only add hops: on one, a request goes gateway → worker → gateway in one thread's queue (admit p50
     * 0.37-0.48 ms against 0.83-1.08 ms with 4 loops, 16 streams on 2 cores, docs/BENCHMARKS.md).
     */
    public static int defaultEventLoops(int cores) {
        return cores < DISAGGREGATED_FROM_CORES ? 1 : 0;
    }

    public static Future<List<DeployedWorker>> deploy(Vertx vertx, WorkerRegistry registry, List<Path> models, String engine,
                                                      Map<String, Object> engineOptions, int prefillWorkers,
                                                      DisaggregationOptions disaggregation, NodeSecurity security,
                                                      MeterRegistry meters) {
        List<DeployedWorker> deployed = new ArrayList<>();
        Future<Void> chain = Future.succeededFuture();
        for (Path model : models) {
            List<WorkerRole> roles = new ArrayList<>();
            for (int i = 0; i < prefillWorkers; i++) roles.add(WorkerRole.PREFILL);
            roles.add(prefillWorkers == 0 ? WorkerRole.BOTH : WorkerRole.DECODE);
            for (WorkerRole role : roles) {
                WorkerOptions options = WorkerOptions.defaults(role).withModelPath(model).withEngine(engine, engineOptions)
                        .withoutHttp().withDisaggregation(disaggregation).withSecurity(security);
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
            log.log(System.Logger.Level.INFO, prefillWorkers == 0 ? "embedded mode: aggregated, one worker prefills and decodes"
                    : "embedded mode: disaggregated, prompts with more than " + disaggregation.maxLocalPrefillTokens()
                    + " uncached tokens are prefilled on a prefill worker (transfer " + disaggregation.transfer() + ")");
            return List.copyOf(deployed);
        }).recover(err -> undeploy(vertx, deployed).transform(ignored -> Future.failedFuture(err)));
    }

    public static Future<Void> undeploy(Vertx vertx, List<DeployedWorker> workers) {
        List<Future<Void>> all = new ArrayList<>();
        for (DeployedWorker w : workers) all.add(w.undeploy(vertx).recover(e -> Future.succeededFuture()));
        return Future.join(all).mapEmpty();
    }
}
