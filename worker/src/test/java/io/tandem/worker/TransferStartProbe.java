package io.tandem.worker;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.vertx.core.Vertx;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Run in a child JVM by {@link UnavailableBackendTest}: deploys a cpu worker with {@code --transfer args[0]}, prints how it went. */
public final class TransferStartProbe {
    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        ProtocolCodecs.registerAll(vertx.eventBus());
        WorkerOptions o = WorkerOptions.defaults(WorkerRole.BOTH).withModelPath(DisaggregatedWorkersTest.model("tandem-fortune-5m-f32"))
                .withEngine("cpu", Map.of("threads", 1, "kv-cache-memory", "16MiB")).withoutHttp()
                .withDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer(args[0]));
        try {
            DeployedWorker w = WorkerDeployment.deploy(vertx, new LocalWorkerRegistry(vertx), o, new SimpleMeterRegistry())
                    .await(60, TimeUnit.SECONDS);
            System.out.println("DEPLOYED " + w.workerId());
        } catch (Exception e) {
            System.out.println("FAILED " + e.getMessage());
        }
        vertx.close().await(10, TimeUnit.SECONDS);
        System.exit(0);
    }
}
