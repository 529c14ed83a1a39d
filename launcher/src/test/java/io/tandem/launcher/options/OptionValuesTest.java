package io.tandem.launcher.options;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.launcher.options.TandemOptions.*;
import static org.junit.jupiter.api.Assertions.*;

class OptionValuesTest {
    private final List<String> warnings = new ArrayList<>();

    private Map<OptionDef<?>, Object> conf(Program p, Map<String, ?> json) {
        return OptionValues.fromConf(p, json, "conf/test.json", warnings::add);
    }

    @Test
    void confValuesAreTypedAndCommentsSkipped() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("_comment", "ignored");
        json.put("port", 9000);
        json.put("model", List.of("a.gguf", "b.gguf"));
        json.put("api-key", "k");
        json.put("kv-events", false);
        json.put("request-timeout-seconds", 1.5);
        json.put("engine-option", Map.of("kv-dtype", "f16", "max-num-seqs", 8));
        OptionValues v = OptionValues.merge(Program.GATEWAY, conf(Program.GATEWAY, json), Map.of());
        assertEquals(9000, v.get(GATEWAY_PORT));
        assertEquals(List.of(Path.of("a.gguf"), Path.of("b.gguf")), v.get(MODEL));
        assertEquals(List.of("k"), v.get(API_KEY));
        assertFalse(v.get(KV_EVENTS));
        assertEquals(1.5, v.get(REQUEST_TIMEOUT_SECONDS));
        assertEquals(Map.of("kv-dtype", "f16", "max-num-seqs", 8), v.get(ENGINE_OPTION));
        assertEquals("0.0.0.0", v.get(GATEWAY_HOST), "not given: the table's default");
        assertFalse(v.isGiven(GATEWAY_HOST));
        assertTrue(warnings.isEmpty(), warnings.toString());
    }

    @Test
    void anUnknownKeyNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> conf(Program.WORKER, Map.of("prot", 1)));
        assertTrue(e.getMessage().startsWith("unknown key 'prot' in conf/test.json; known keys: "), e.getMessage());
        assertTrue(e.getMessage().contains("port, prefill-timeout"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> conf(Program.GATEWAY, Map.of("role", "decode")));
        assertTrue(e.getMessage().contains("'role' in conf/test.json (an option of worker.jar)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> conf(Program.GATEWAY, Map.of("conf", "x.json")));
        assertTrue(e.getMessage().contains("unknown key 'conf'"), "--conf is a flag only: " + e.getMessage());
    }

    @Test
    void aWrongTypeNamesTheKeyAndWhatItMustBe() {
        assertEquals("conf/test.json: 'port' must be a whole number 0..65535, got 'eighty'",
                assertThrows(IllegalArgumentException.class, () -> conf(Program.WORKER, Map.of("port", "eighty"))).getMessage());
        assertEquals("conf/test.json: 'port' must be a whole number 0..65535, got 70000",
                assertThrows(IllegalArgumentException.class, () -> conf(Program.WORKER, Map.of("port", 70000))).getMessage());
        assertEquals("conf/test.json: 'cluster' must be true or false, got 'yes'",
                assertThrows(IllegalArgumentException.class, () -> conf(Program.WORKER, Map.of("cluster", "yes"))).getMessage());
        assertEquals("conf/test.json: 'transfer' must be one of tcp, shm, ucx, nixl, auto, got 'rdma'",
                assertThrows(IllegalArgumentException.class, () -> conf(Program.WORKER, Map.of("transfer", "rdma"))).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> conf(Program.WORKER, Map.of("threads", 1.5)))
                .getMessage().contains("'threads' must be a whole number >= 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> conf(Program.WORKER, Map.of("engine-option", "a=b")))
                .getMessage().contains("'engine-option' must be KEY=VALUE, or an object"));
    }

    @Test
    void deprecatedKeysStillWorkWithAWarning() {
        Map<OptionDef<?>, Object> v = conf(Program.GATEWAY, Map.of("api_keys", List.of("a", "b"), "engine-options", Map.of("x", 1)));
        assertEquals(List.of("a", "b"), v.get(API_KEY));
        assertEquals(Map.of("x", 1), v.get(ENGINE_OPTION));
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.contains("conf/test.json: key 'api_keys' is deprecated; use 'api-key'"), warnings.toString());
        Map<String, Object> both = new LinkedHashMap<>();
        both.put("api-key", "a");
        both.put("api_keys", "b");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> conf(Program.GATEWAY, both)).getMessage()
                .contains("'api-key' and 'api_keys' set the same option; keep 'api-key'"));
    }

    @Test
    void flagsWinOverTheFileAndSettingsMerge() {
        Map<OptionDef<?>, Object> file = conf(Program.WORKER, Map.of("port", 9100, "role", "prefill",
                "engine-option", Map.of("kv-dtype", "f16", "max-num-seqs", 8)));
        Map<OptionDef<?>, Object> flags = OptionValues.fromNamed(Program.WORKER, Map.of("port", "0",
                "engine-option", Map.of("max-num-seqs", "4")));
        OptionValues v = OptionValues.merge(Program.WORKER, file, flags);
        assertEquals(0, v.get(WORKER_PORT));
        assertEquals("prefill", v.get(ROLE));
        assertEquals(Map.of("kv-dtype", "f16", "max-num-seqs", "4"), v.get(ENGINE_OPTION));
    }

    @Test
    void anOptionOfTheOtherProgramIsRefused() {
        OptionValues v = OptionValues.none(Program.GATEWAY);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> v.get(ROLE)).getMessage()
                .contains("--role is not an option of gateway.jar"));
        assertThrows(IllegalArgumentException.class, () -> OptionValues.fromNamed(Program.GATEWAY, Map.of("role", "decode")));
    }
}
