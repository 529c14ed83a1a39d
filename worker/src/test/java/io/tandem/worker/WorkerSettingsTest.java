package io.tandem.worker;

import io.tandem.launcher.options.OptionValues;
import io.tandem.launcher.options.Program;
import io.tandem.launcher.options.TandemOptions;
import io.tandem.protocol.WorkerRole;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.registry.cluster.EventLoopPriority;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class WorkerSettingsTest {

    @Test
    void defaultsAreABothWorkerOnTheBundledModelWithTheSimEngineOnAFreePort() {
        WorkerSettings s = WorkerSettings.resolve(Map.of(), new JsonObject());
        assertEquals(WorkerRole.BOTH, s.options().role());
        assertNull(s.options().modelPath());
        assertEquals("cpu", s.options().engine());
        assertEquals(0, s.options().httpPort());
        assertEquals("127.0.0.1", s.options().host());
        assertFalse(s.cluster());
        assertEquals(60_000, s.options().stallTimeoutMillis());
        assertEquals(EventLoopPriority.REALTIME, s.eventLoops());
    }

    @Test
    void theEventLoopPriorityComesFromTheFileOrTheFlagAndOnlyItsTwoValuesPass() {
        assertEquals(EventLoopPriority.NORMAL,
                WorkerSettings.resolve(Map.of(), new JsonObject().put("event-loop-priority", "normal")).eventLoops());
        assertEquals(EventLoopPriority.REALTIME, WorkerSettings.resolve(Map.of("event-loop-priority", "realtime"),
                new JsonObject().put("event-loop-priority", "normal")).eventLoops());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WorkerSettings.resolve(Map.of("event-loop-priority", "fifo"), new JsonObject()));
        assertTrue(e.getMessage().contains("event-loop-priority") && e.getMessage().contains("realtime, normal"),
                e.getMessage());
    }

    @Test
    void theFileSetsAnyFlagAndFlagsWin() {
        JsonObject file = new JsonObject().put("_comment", "keys starting with _ are comments").put("role", "prefill").put("port", 9100).put("model", "/models/a.gguf")
                .put("cluster", true).put("cluster-port", 5701).put("stall-timeout", 2.5)
                .put("engine-option", new JsonObject().put("decodeStepNanos", 1000));
        Map<String, Object> flags = new HashMap<>();
        flags.put("role", "decode");
        flags.put("port", null); // not given
        WorkerSettings s = WorkerSettings.resolve(flags, file);
        assertEquals(WorkerRole.DECODE, s.options().role());
        assertEquals(9100, s.options().httpPort());
        assertEquals(Path.of("/models/a.gguf"), s.options().modelPath());
        assertTrue(s.cluster());
        assertEquals(5701, s.clusterPort());
        assertEquals(2500, s.options().stallTimeoutMillis());
        assertEquals(1000, ((Number) s.options().engineOptions().get("decodeStepNanos")).intValue());
    }

    @Test
    void nixlHomeReachesTheTransferOptions() {
        assertEquals(null, WorkerSettings.resolve(Map.of(), new JsonObject()).options().disaggregation().nixlHome());
        WorkerSettings s = WorkerSettings.resolve(Map.of("transfer", "nixl", "nixl-home", "/opt/nixl"), new JsonObject());
        assertEquals("nixl", s.options().disaggregation().transfer());
        assertEquals(Path.of("/opt/nixl"), s.options().disaggregation().nixlHome());
        assertEquals(Path.of("/srv/nixl"), WorkerSettings.resolve(Map.of(), new JsonObject().put("nixl-home", "/srv/nixl"))
                .options().disaggregation().nixlHome());
    }

    @Test
    void badValuesNameTheirKey() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WorkerSettings.resolve(Map.of("port", "eighty"), new JsonObject())).getMessage().contains("port"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WorkerSettings.resolve(Map.of("port", 70000), new JsonObject())).getMessage().contains("0..65535"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WorkerSettings.resolve(Map.of(), new JsonObject().put("engine", "vllm"))).getMessage().contains("available engines: cpu, sim"));
    }

    @Test
    void theTableShowsTheDefaultsTheWorkerRunsWith() {
        WorkerOptions d = WorkerOptions.defaults(WorkerRole.BOTH);
        DisaggregationOptions dis = DisaggregationOptions.DEFAULTS;
        assertEquals(d.host(), TandemOptions.WORKER_HOST.defaultValue());
        assertEquals(d.httpPort(), TandemOptions.WORKER_PORT.defaultValue());
        assertEquals(d.engine(), TandemOptions.ENGINE.defaultValue());
        assertEquals(d.stallTimeoutMillis(), Math.round(TandemOptions.STALL_TIMEOUT.defaultValue() * 1000));
        assertEquals(d.transferPort(), TandemOptions.TRANSFER_PORT.defaultValue());
        assertEquals(dis.transfer(), TandemOptions.TRANSFER.defaultValue());
        assertEquals(dis.maxLocalPrefillTokens(), TandemOptions.MAX_LOCAL_PREFILL_TOKENS.defaultValue());
        assertEquals(dis.maxPrefillQueue(), TandemOptions.MAX_PREFILL_QUEUE.defaultValue());
        assertEquals(dis.prefillTimeoutMillis(), Math.round(TandemOptions.PREFILL_TIMEOUT.defaultValue() * 1000));
        assertEquals(dis.transferThreads(), TandemOptions.TRANSFER_THREADS.defaultValue());
        assertEquals("both", TandemOptions.ROLE.defaultValue());
        assertEquals(0, TandemOptions.CLUSTER_PORT.defaultValue());
    }

    @Test
    void theNewOptionsArePlumbed(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("secret"), "0123456789abcdef-cluster\n");
        Map<String, Object> flags = new HashMap<>();
        flags.put("advertise-host", "10.1.2.3");
        flags.put("transfer-port", "7400");
        flags.put("cluster-secret-file", secret.toString());
        flags.put("insecure-transfer", true);
        WorkerSettings s = WorkerSettings.resolve(flags, new JsonObject().put("cluster-config", "/etc/tandem/cluster.xml"));
        assertEquals("10.1.2.3", s.advertiseHost());
        assertEquals("10.1.2.3", s.options().advertiseHost());
        assertEquals(7400, s.transferPort());
        assertEquals(ClusterSecret.of("0123456789abcdef-cluster"), s.security().secret());
        assertTrue(s.security().insecureTransfer());
        assertNull(s.security().tls());
        assertEquals("/etc/tandem/cluster.xml", s.clusterConfig());

        WorkerSettings plain = WorkerSettings.from(OptionValues.none(Program.WORKER), Map.of());
        assertNull(plain.advertiseHost(), "derived at startup");
        assertEquals(0, plain.transferPort());
        assertEquals(NodeSecurity.NONE, plain.security());
    }

    @Test
    void theSecretComesFromTheEnvironmentWhenNoFileIsGiven(@TempDir Path dir) throws Exception {
        OptionValues none = OptionValues.none(Program.WORKER);
        assertEquals(ClusterSecret.of("from-the-environment-1234"),
                WorkerSettings.from(none, Map.of(ClusterSecret.ENV, "from-the-environment-1234")).security().secret());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WorkerSettings.from(none, Map.of(ClusterSecret.ENV, "short")))
                .getMessage().startsWith("TANDEM_CLUSTER_SECRET: a cluster secret needs at least 16 bytes"));
        Path file = Files.writeString(dir.resolve("secret"), "the-file-wins-over-the-env");
        OptionValues withFile = OptionValues.merge(Program.WORKER, Map.of(),
                OptionValues.fromNamed(Program.WORKER, Map.of("cluster-secret-file", file.toString())));
        assertEquals(ClusterSecret.of("the-file-wins-over-the-env"),
                WorkerSettings.from(withFile, Map.of(ClusterSecret.ENV, "from-the-environment-1234")).security().secret());
    }

    @Test
    void tlsNeedsAllThreeReadableFiles(@TempDir Path dir) throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), "c"), key = Files.writeString(dir.resolve("k.pem"), "k");
        Map<String, Object> flags = new HashMap<>(Map.of("tls-cert", cert.toString(), "tls-key", key.toString()));
        assertEquals("--tls-cert, --tls-key and --tls-ca go together; missing: --tls-ca",
                assertThrows(IllegalArgumentException.class, () -> WorkerSettings.resolve(flags, new JsonObject())).getMessage());
        flags.put("tls-ca", dir.resolve("missing.pem").toString());
        assertEquals("--tls-ca: " + dir.resolve("missing.pem") + " is not a readable file",
                assertThrows(IllegalArgumentException.class, () -> WorkerSettings.resolve(flags, new JsonObject())).getMessage());
        Path ca = Files.writeString(dir.resolve("ca.pem"), "ca");
        flags.put("tls-ca", ca.toString());
        assertEquals(List.of(cert, key, ca), List.of(WorkerSettings.resolve(flags, new JsonObject()).security().tls().cert(),
                WorkerSettings.resolve(flags, new JsonObject()).security().tls().key(), WorkerSettings.resolve(flags, new JsonObject()).security().tls().ca()));
    }

    @Test
    void aWorkerServesOneModelAndThreadsNeedTheCpuEngine() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WorkerSettings.resolve(Map.of(),
                new JsonObject().put("model", new io.vertx.core.json.JsonArray().add("a.gguf").add("b.gguf")))).getMessage()
                .contains("a worker serves one model; --model was given 2 times"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> WorkerSettings.resolve(Map.of("engine", "sim", "threads", "2"),
                new JsonObject())).getMessage().contains("--threads applies to the cpu engine, not 'sim'"));
        assertEquals(2, WorkerSettings.resolve(Map.of("threads", "2"), new JsonObject()).options().engineOptions().get("threads"));
    }
}
