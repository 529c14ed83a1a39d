package io.tandem.gateway;

import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.router.RouterMode;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

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
            new CommandLine(main).parseArgs("--conf", conf.toString(), "--port", "0", "--api-key", "k1", "--api-key", "k2", "-cluster");
            GatewayOptions o = main.options();
            assertEquals(0, o.port());
            assertEquals(RouterMode.ROUND_ROBIN, o.router());
            assertEquals(List.of("k1", "k2"), o.apiKeys());
            assertTrue(o.cluster());
        } finally {
            Files.deleteIfExists(conf);
        }
    }
}
