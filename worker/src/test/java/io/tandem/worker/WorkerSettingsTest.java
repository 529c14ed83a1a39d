package io.tandem.worker;

import io.tandem.protocol.WorkerRole;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
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
    void badValuesNameTheirKey() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WorkerSettings.resolve(Map.of("port", "eighty"), new JsonObject())).getMessage().contains("port"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WorkerSettings.resolve(Map.of("port", 70000), new JsonObject())).getMessage().contains("0..65535"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WorkerSettings.resolve(Map.of(), new JsonObject().put("engine", "vllm"))).getMessage().contains("available engines: cpu, sim"));
    }
}
