package io.tandem.worker.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.sim.SimConfig;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.transfer.Await;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.tandem.worker.engine.LoadedEngine;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

@ExtendWith(VertxExtension.class)
class WorkerHttpTest {

    @Test
    void healthAndPrometheusMetricsOnAFreePort(Vertx vertx) throws Exception {
        LocalWorkerRegistry registry = new LocalWorkerRegistry(vertx);
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        EngineInfo info = new EngineInfo("http-model", 500, 1024, 16);
        DeployedWorker w = WorkerDeployment.deploy(vertx, registry, WorkerOptions.defaults(WorkerRole.DECODE).withHttp("127.0.0.1", 0),
                meters, o -> new LoadedEngine(new SimulatedEngine(info, id -> id > 2, new int[] {2}, SimConfig.instant().withEosProbability(0)),
                        "http-model", null, io.tandem.protocol.ClusterContract.of("http-model-fingerprint", 16,
                        io.tandem.protocol.ClusterContract.NO_KV, io.tandem.protocol.ClusterContract.NO_KV))).await(10, TimeUnit.SECONDS);
        int port = w.httpPort();
        assertTrue(port > 0);
        assertEquals(port, registry.worker(w.workerId()).orElseThrow().httpPort(), "the registered record carries the real port");
        io.tandem.protocol.WorkerRecord registered = registry.worker(w.workerId()).orElseThrow();
        assertEquals(w.verticle().epoch(), registered.epoch(), "the record carries this start's epoch");
        assertNotEquals(0, registered.epoch());
        assertEquals("http-model-fingerprint", registered.contract().modelFingerprint());

        // one request through, so the counters have something to say
        CompletableFuture<StreamMessage> end = new CompletableFuture<>();
        vertx.eventBus().<StreamMessage>consumer(Addresses.stream("h1"), m -> {
            if (m.body().isTerminal()) end.complete(m.body());
        }).completion().await(5, TimeUnit.SECONDS);
        vertx.eventBus().request(Addresses.generate(w.workerId()), new GenerateRequest("h1", "http-model", new int[] {5, 6, 7},
                SamplingParams.greedy(9), Addresses.stream("h1"), 100)).await(5, TimeUnit.SECONDS);
        assertInstanceOf(StreamMessage.Finished.class, end.get(5, TimeUnit.SECONDS));

        WebClient client = WebClient.create(vertx);
        HttpResponse<Buffer> health = client.get(port, "127.0.0.1", "/health").send().await(5, TimeUnit.SECONDS);
        assertEquals(200, health.statusCode());
        JsonObject h = health.bodyAsJsonObject();
        assertEquals("ok", h.getString("status"));
        assertEquals(w.workerId(), h.getString("workerId"));
        assertEquals("decode", h.getString("role"));
        assertEquals("http-model", h.getString("model"));
        assertEquals("none", h.getValue("kernels"), "a simulated engine runs no CPU kernels");

        HttpResponse<Buffer> metrics = client.get(port, "127.0.0.1", "/metrics").send().await(5, TimeUnit.SECONDS);
        assertEquals(200, metrics.statusCode());
        String text = metrics.bodyAsString();
        String tags = "role=\"decode\",worker=\"" + w.workerId() + "\"";
        assertTrue(text.contains("tandem_worker_requests_total{outcome=\"length\"," + tags + "} 1.0"), text);
        assertTrue(text.contains("tandem_worker_generated_tokens_total{" + tags + "} 9.0"), text);
        assertTrue(text.contains("tandem_worker_prompt_tokens_total{" + tags + "} 3.0"), text);
        assertTrue(text.contains("tandem_worker_running_requests{" + tags + "} 0"), text);
        assertTrue(text.contains("tandem_worker_waiting_requests{" + tags + "}"), text);
        assertFalse(text.contains("tandem_engine_kernels_info"), text);

        assertEquals(404, client.get(port, "127.0.0.1", "/nope").send().await(5, TimeUnit.SECONDS).statusCode());
        w.undeploy(vertx).await(10, TimeUnit.SECONDS);
        assertThrows(Exception.class, () -> client.get(port, "127.0.0.1", "/health").send().await(5, TimeUnit.SECONDS),
                "the server closes with the worker");
        registry.close().await(5, TimeUnit.SECONDS);
    }

    @Test
    void aCpuWorkerReportsItsKernelsInHealthAndMetrics(Vertx vertx) throws Exception {
        LocalWorkerRegistry registry = new LocalWorkerRegistry(vertx);
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        java.util.Map<String, Object> small = java.util.Map.of("threads", 1, "kv-cache-memory", "8MiB");
        WorkerOptions cpu = WorkerOptions.defaults(WorkerRole.BOTH).withHttp("127.0.0.1", 0)
                .withDisaggregation(io.tandem.worker.disagg.DisaggregationOptions.DEFAULTS.withTransfer("tcp"));
        DeployedWorker auto = WorkerDeployment.deploy(vertx, registry, cpu.withEngine("cpu", small), meters).await(60, TimeUnit.SECONDS);
        java.util.Map<String, Object> scalarOptions = new java.util.HashMap<>(small);
        scalarOptions.put("kernels", "scalar");
        DeployedWorker scalar = WorkerDeployment.deploy(vertx, registry, cpu.withEngine("cpu", scalarOptions), meters).await(60, TimeUnit.SECONDS);
        try {
            WebClient client = WebClient.create(vertx);
            // the build runs with --add-modules jdk.incubator.vector: auto means the vector kernels
            int lanes = io.tandem.engine.kernels.Kernels.describe(io.tandem.engine.kernels.KernelMode.VECTOR).lanes();
            assertTrue(lanes == 8 || lanes == 16, "lanes " + lanes);
            JsonObject autoHealth = client.get(auto.httpPort(), "127.0.0.1", "/health").send().await(5, TimeUnit.SECONDS).bodyAsJsonObject();
            assertEquals(new JsonObject().put("backend", "vector").put("lanes", lanes), autoHealth.getJsonObject("kernels"));
            JsonObject scalarHealth = client.get(scalar.httpPort(), "127.0.0.1", "/health").send().await(5, TimeUnit.SECONDS).bodyAsJsonObject();
            assertEquals(new JsonObject().put("backend", "scalar").put("lanes", 1), scalarHealth.getJsonObject("kernels"));

            String text = client.get(auto.httpPort(), "127.0.0.1", "/metrics").send().await(5, TimeUnit.SECONDS).bodyAsString();
            assertTrue(text.contains("tandem_engine_kernels_info{backend=\"vector\",lanes=\"" + lanes + "\",role=\"both\",worker=\""
                    + auto.workerId() + "\"} 1"), text);
            assertTrue(text.contains("tandem_engine_kernels_info{backend=\"scalar\",lanes=\"1\",role=\"both\",worker=\""
                    + scalar.workerId() + "\"} 1"), text);

            // one request through: its prompt step and its decode steps land in the step histogram
            String model = registry.worker(auto.workerId()).orElseThrow().model();
            CompletableFuture<StreamMessage> end = new CompletableFuture<>();
            vertx.eventBus().<StreamMessage>consumer(Addresses.stream("steps"), m -> {
                if (m.body().isTerminal()) end.complete(m.body());
            }).completion().await(5, TimeUnit.SECONDS);
            vertx.eventBus().request(Addresses.generate(auto.workerId()), new GenerateRequest("steps", model,
                    new int[] {5, 6, 7, 8}, SamplingParams.greedy(6), Addresses.stream("steps"), 100)).await(5, TimeUnit.SECONDS);
            StreamMessage.Finished finished = assertInstanceOf(StreamMessage.Finished.class, end.get(30, TimeUnit.SECONDS));
            int generated = finished.usage().completionTokens();
            assertTrue(generated >= 1, finished.toString());
            // a step is timed after its tokens went to the event loop, so the stream's end can arrive first
            Await.until(Await.DEFAULT, () -> stepCount(meters, auto.workerId(), "prefill") == 1
                            && stepCount(meters, auto.workerId(), "decode") == generated - 1,
                    () -> "the prompt in one step and a decode step per further token: prefill "
                            + stepCount(meters, auto.workerId(), "prefill")
                            + ", decode " + stepCount(meters, auto.workerId(), "decode"));
            assertEquals(0, stepCount(meters, auto.workerId(), "mixed"));
            assertEquals(0, stepCount(meters, scalar.workerId(), "prefill"), "the other worker's engine did nothing");
            String after = client.get(auto.httpPort(), "127.0.0.1", "/metrics").send().await(5, TimeUnit.SECONDS).bodyAsString();
            assertTrue(after.contains("tandem_engine_step_seconds_count{kind=\"prefill\",role=\"both\",worker=\""
                    + auto.workerId() + "\"} 1"), after);
        } finally {
            scalar.undeploy(vertx).await(30, TimeUnit.SECONDS);
            auto.undeploy(vertx).await(30, TimeUnit.SECONDS);
            registry.close().await(5, TimeUnit.SECONDS);
        }
        assertTrue(meters.find("tandem.engine.kernels.info").meters().isEmpty(), "the meters leave with their workers");
        assertTrue(meters.find("tandem.engine.step").meters().isEmpty(), "the step histograms too");
    }

    private static long stepCount(PrometheusMeterRegistry meters, String workerId, String kind) {
        return meters.get("tandem.engine.step").tag("worker", workerId).tag("kind", kind).timer().count();
    }
}
