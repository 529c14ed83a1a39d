package io.tandem.launcher.options;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** The table's own promises: one declaration per option and program, conf key = flag name, documented keys kept. */
class TandemOptionsTest {

    @Test
    void everyOptionOfAProgramHasItsOwnFlagAndNoFlagIsTakenTwice() {
        for (Program p : Program.values()) {
            Set<String> seen = new HashSet<>();
            for (OptionDef<?> d : TandemOptions.of(p)) {
                for (String name : d.flagNames()) assertTrue(seen.add(name), name + " twice in " + p.jar());
                for (String key : d.deprecatedKeys()) assertTrue(seen.add(key), key + " twice in " + p.jar());
                assertEquals("--" + d.name(), d.flag());
                assertFalse(d.help(p).isBlank());
            }
        }
    }

    @Test
    void theConfKeysDocumentedBeforeTheTableStillWork() {
        // conf/gateway.json keys before the table existed (GatewayOptions.KEYS) and worker keys (WorkerSettings.KEYS)
        List<String> gateway = List.of("host", "port", "model", "engine", "engine-options", "router", "api-key", "api_keys",
                "max-body-bytes", "request-timeout-seconds", "initial-credits", "accept-timeout-ms", "stream-idle-timeout-ms",
                "retry-after-seconds", "sse-write-queue-bytes", "send-buffer-bytes", "cluster", "cluster-host", "cluster-port",
                "cluster-config", "router-prefill-weight", "router-load-weight", "router-temperature", "kv-events",
                "prefill-workers", "max-local-prefill-tokens", "transfer");
        List<String> worker = List.of("role", "model", "engine", "port", "host", "cluster", "cluster-host", "cluster-port",
                "engine-option", "stall-timeout", "id", "threads", "transfer", "max-local-prefill-tokens", "max-prefill-queue",
                "prefill-timeout", "transfer-threads");
        assertAll(gateway.stream().map(k -> () -> assertTrue(confKeys(Program.GATEWAY).contains(k), "gateway key " + k)));
        assertAll(worker.stream().map(k -> () -> assertTrue(confKeys(Program.WORKER).contains(k), "worker key " + k)));
    }

    @Test
    void theFlagsDocumentedBeforeTheTableStillWork() {
        List<String> gateway = List.of("--conf", "--host", "--port", "--model", "--engine", "--engine-option", "--threads",
                "--prefill-workers", "--max-local-prefill-tokens", "--transfer", "--router", "--no-kv-events",
                "--router-prefill-weight", "--router-load-weight", "--router-temperature", "--api-key", "--max-body-bytes",
                "--request-timeout-seconds", "-cluster", "--cluster", "-cluster-host", "--cluster-host", "-cluster-port",
                "--cluster-port", "--cluster-config");
        List<String> worker = List.of("--role", "--model", "--engine", "--engine-option", "--threads", "--port", "--host",
                "--id", "--stall-timeout", "--transfer", "--max-local-prefill-tokens", "--max-prefill-queue",
                "--prefill-timeout", "--transfer-threads", "--nixl-home", "-cluster", "-cluster-host", "-cluster-port", "--conf");
        assertAll(gateway.stream().map(f -> () -> assertTrue(flags(Program.GATEWAY).contains(f), "gateway flag " + f)));
        assertAll(worker.stream().map(f -> () -> assertTrue(flags(Program.WORKER).contains(f), "worker flag " + f)));
    }

    @Test
    void optionsCommonToBothProgramsAreDeclaredOnce() {
        for (OptionDef<?> d : List.of(TandemOptions.MODEL, TandemOptions.ENGINE, TandemOptions.ENGINE_OPTION, TandemOptions.THREADS,
                TandemOptions.TRANSFER, TandemOptions.MAX_LOCAL_PREFILL_TOKENS, TandemOptions.MAX_PREFILL_QUEUE,
                TandemOptions.PREFILL_TIMEOUT, TandemOptions.TRANSFER_THREADS, TandemOptions.NIXL_HOME, TandemOptions.CLUSTER, TandemOptions.CLUSTER_HOST,
                TandemOptions.CLUSTER_PORT, TandemOptions.CLUSTER_CONFIG, TandemOptions.ADVERTISE_HOST,
                TandemOptions.CLUSTER_SECRET_FILE, TandemOptions.TLS_CERT, TandemOptions.TLS_KEY, TandemOptions.TLS_CA)) {
            assertEquals(Set.of(Program.GATEWAY, Program.WORKER), d.programs(), d.flag());
        }
        assertEquals(Set.of(Program.WORKER), TandemOptions.TRANSFER_PORT.programs());
        assertEquals(Set.of(Program.WORKER), TandemOptions.INSECURE_TRANSFER.programs());
    }

    private static Set<String> confKeys(Program p) {
        Set<String> keys = new HashSet<>();
        TandemOptions.of(p).stream().filter(d -> !d.flagOnly()).forEach(d -> {
            keys.add(d.name());
            keys.addAll(d.deprecatedKeys());
        });
        return keys;
    }

    private static Set<String> flags(Program p) {
        Set<String> flags = new HashSet<>();
        TandemOptions.of(p).forEach(d -> {
            flags.addAll(d.flagNames());
            if (d.negatable()) flags.add("--no-" + d.name());
        });
        return flags;
    }
}
