package io.tandem.gateway;

import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.router.KvCostModel;
import io.tandem.gateway.router.RouterMode;
import io.tandem.launcher.options.TandemOptions;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.registry.cluster.EventLoopPriority;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GatewayOptionsTest {

    @Test
    void theShippedConfFileParses() throws Exception {
        Path conf = TestSupport.repoRoot().resolve("conf/gateway.json");
        GatewayOptions o = GatewayOptions.fromJson(new JsonObject(Files.readString(conf)));
        assertEquals(8000, o.port());
        assertEquals("cpu", o.engine());
        // the file the README's `./tandem run` reads leaves the core-count defaults alone
        int cores = Runtime.getRuntime().availableProcessors();
        assertEquals(io.tandem.gateway.embedded.EmbeddedWorkers.defaultPrefillWorkers(cores), o.prefillWorkers());
        assertEquals(io.tandem.gateway.embedded.EmbeddedWorkers.defaultEventLoops(cores), o.eventLoops());
    }

    @Test
    void jsonKeysAreTheLongFlagNames() {
        GatewayOptions o = GatewayOptions.fromJson(new JsonObject()
                .put("_comment", "ignored").put("host", "127.0.0.1").put("port", 0).put("router", "round-robin")
                .put("api-key", new io.vertx.core.json.JsonArray().add("a").add("b")).put("max-body-bytes", 1024)
                .put("request-timeout-seconds", 1.5).put("model", "x.gguf").put("engine-options", new JsonObject().put("decodeStepNanos", 5)));
        assertEquals("127.0.0.1", o.host());
        assertEquals(RouterMode.ROUND_ROBIN, o.router());
        assertEquals(List.of("a", "b"), o.apiKeys());
        assertEquals(1024, o.maxBodyBytes());
        assertEquals(1500, o.requestTimeoutMillis());
        assertEquals(List.of(Path.of("x.gguf")), o.models());
        assertEquals(5, ((Number) o.engineOptions().get("decodeStepNanos")).intValue());
    }

    @Test
    void badConfIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GatewayOptions.fromJson(new JsonObject().put("prot", 1)));
        assertTrue(e.getMessage().contains("prot"));
        e = assertThrows(IllegalArgumentException.class, () -> GatewayOptions.fromJson(new JsonObject().put("port", "eighty")));
        assertTrue(e.getMessage().contains("port"));
        assertThrows(IllegalArgumentException.class, () -> GatewayOptions.fromJson(new JsonObject().put("port", 70000)));
        assertThrows(IllegalArgumentException.class, () -> GatewayOptions.fromJson(new JsonObject().put("router", "fastest")));
    }

    @Test
    void flagsOverrideTheConfFile() throws Exception {
        Path conf = Files.createTempFile("gateway", ".json");
        try {
            Files.writeString(conf, "{\"port\": 9000, \"router\": \"round-robin\", \"api-key\": \"from-file\"}");
            GatewayMain main = new GatewayMain();
            main.commandLine().parseArgs("--conf", conf.toString(), "--port", "0", "--api-key", "k1", "--api-key", "k2", "-cluster");
            GatewayOptions o = main.options();
            assertEquals(0, o.port());
            assertEquals(RouterMode.ROUND_ROBIN, o.router());
            assertEquals(List.of("k1", "k2"), o.apiKeys());
            assertTrue(o.cluster());
        } finally {
            Files.deleteIfExists(conf);
        }
    }

    @Test
    void theTableShowsTheDefaultsTheGatewayRunsWith() {
        GatewayOptions d = new GatewayOptions();
        assertEquals(d.host(), TandemOptions.GATEWAY_HOST.defaultValue());
        assertEquals(d.port(), TandemOptions.GATEWAY_PORT.defaultValue());
        assertEquals(d.grpcPort(), TandemOptions.GRPC_PORT.defaultValue());
        assertEquals(8001, d.grpcPort(), "Triton's gRPC port");
        assertEquals(d.grpcMaxMessageBytes(), TandemOptions.GRPC_MAX_MESSAGE_BYTES.defaultValue());
        assertEquals(d.engine(), TandemOptions.ENGINE.defaultValue());
        assertEquals(d.router().flag(), TandemOptions.ROUTER.defaultValue());
        assertEquals(d.kvEvents(), TandemOptions.KV_EVENTS.defaultValue());
        assertEquals(d.kvCostModel().prefillWeight(), TandemOptions.ROUTER_PREFILL_WEIGHT.defaultValue());
        assertEquals(d.kvCostModel().loadWeight(), TandemOptions.ROUTER_LOAD_WEIGHT.defaultValue());
        assertEquals(d.kvCostModel().temperature(), TandemOptions.ROUTER_TEMPERATURE.defaultValue());
        assertEquals(d.maxBodyBytes(), TandemOptions.MAX_BODY_BYTES.defaultValue());
        assertEquals(d.requestTimeoutMillis(), Math.round(TandemOptions.REQUEST_TIMEOUT_SECONDS.defaultValue() * 1000));
        assertEquals(d.initialCredits(), TandemOptions.INITIAL_CREDITS.defaultValue());
        assertEquals(d.acceptTimeoutMillis(), TandemOptions.ACCEPT_TIMEOUT_MS.defaultValue());
        assertEquals(d.streamIdleTimeoutMillis(), TandemOptions.STREAM_IDLE_TIMEOUT_MS.defaultValue());
        assertEquals(d.retryAfterSeconds(), TandemOptions.RETRY_AFTER_SECONDS.defaultValue());
        assertEquals(d.sseWriteQueueBytes(), TandemOptions.SSE_WRITE_QUEUE_BYTES.defaultValue());
        assertEquals(d.sendBufferBytes(), TandemOptions.SEND_BUFFER_BYTES.defaultValue());
        assertEquals(d.prefillWorkers(), Runtime.getRuntime().availableProcessors() < 8 ? 0 : 1, "aggregated below 8 cores");
        assertEquals(d.eventLoops(), Runtime.getRuntime().availableProcessors() < 8 ? 1 : 0, "one event loop below 8 cores");
        assertEquals(d.cluster(), TandemOptions.CLUSTER.defaultValue());
        assertEquals(d.clusterPort(), TandemOptions.CLUSTER_PORT.defaultValue());
        assertEquals(DisaggregationOptions.DEFAULTS, d.disaggregation());
        assertEquals(KvCostModel.DEFAULT, d.kvCostModel());
        assertNull(d.advertiseHost());
        assertEquals(NodeSecurity.NONE, d.security());
    }

    @Test
    void deprecatedKeysStillWorkAndEveryOptionIsAKey() throws Exception {
        GatewayOptions o = GatewayOptions.fromJson(new JsonObject().put("api_keys", new io.vertx.core.json.JsonArray().add("old"))
                .put("kv-events", false).put("accept-timeout-ms", 500).put("initial-credits", 4).put("max-prefill-queue", 3)
                .put("prefill-timeout", 2.5).put("transfer-threads", 3).put("transfer", "tcp").put("advertise-host", "10.9.8.7")
                .put("engine", "sim").put("engine-option", new JsonObject().put("decodeStepNanos", 7)));
        assertEquals(List.of("old"), o.apiKeys());
        assertFalse(o.kvEvents());
        assertEquals(500, o.acceptTimeoutMillis());
        assertEquals(4, o.initialCredits());
        assertEquals(new DisaggregationOptions("tcp", 128, 3, 2500, 3, true), o.disaggregation());
        assertEquals("10.9.8.7", o.advertiseHost());
        assertEquals(7, ((Number) o.engineOptions().get("decodeStepNanos")).intValue());
        assertThrows(IllegalArgumentException.class, () -> GatewayOptions.fromJson(new JsonObject().put("role", "decode")),
                "a worker option is not a gateway key");
    }

    @Test
    void flagsForSecurityAndTheClusterArePlumbed() throws Exception {
        Path dir = Files.createTempDirectory("gateway-security");
        try {
            Path secret = Files.writeString(dir.resolve("secret"), "a-gateway-secret-of-some-length\n");
            GatewayMain main = new GatewayMain();
            main.commandLine().parseArgs("--cluster-secret-file", secret.toString(), "--advertise-host", "gw.example",
                    "--cluster-config", "classpath:x.xml", "--no-kv-events", "--prefill-timeout", "5", "--threads", "1",
                    "--event-loops", "3", "--event-loop-priority", "normal");
            GatewayOptions o = main.options();
            assertEquals(ClusterSecret.of("a-gateway-secret-of-some-length"), o.security().secret());
            assertFalse(o.security().insecureTransfer());
            assertEquals("gw.example", o.advertiseHost());
            assertEquals("classpath:x.xml", o.clusterConfig());
            assertFalse(o.kvEvents());
            assertEquals(5000, o.disaggregation().prefillTimeoutMillis());
            assertEquals(1, o.engineOptions().get("threads"));
            assertEquals(3, o.eventLoops());
            assertEquals(EventLoopPriority.NORMAL, o.eventLoopPriority());
            assertEquals(EventLoopPriority.REALTIME, new GatewayOptions().eventLoopPriority(), "the default");

            GatewayMain bad = new GatewayMain();
            bad.commandLine().parseArgs("--cluster-secret-file", dir.resolve("nope").toString());
            assertTrue(assertThrows(IllegalArgumentException.class, bad::options).getMessage()
                    .startsWith("--cluster-secret-file: cannot read the cluster secret file"));
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) Files.delete(f);
            }
            Files.delete(dir);
        }
    }
}
