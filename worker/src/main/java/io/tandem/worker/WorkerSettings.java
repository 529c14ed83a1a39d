package io.tandem.worker;

import io.tandem.protocol.WorkerRole;
import io.tandem.worker.engine.EngineNames;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A worker's settings from a JSON config file and command-line flags: the file's keys are the
 * long flag names ({@code role, model, engine, port, host, cluster, cluster-host, cluster-port,
 * engine-option, stall-timeout, id, threads, transfer, max-local-prefill-tokens, max-prefill-queue,
 * prefill-timeout, transfer-threads}; keys starting with {@code _} are comments); a flag given on the
 * command line wins over the file.
 *
 * @param options      the worker itself
 * @param cluster      join the Hazelcast cluster
 * @param clusterHost  event-bus host, null for Hazelcast's
 * @param clusterPort  event-bus port, 0 for a free one
 */
public record WorkerSettings(WorkerOptions options, boolean cluster, String clusterHost, int clusterPort) {

    public static final Set<String> KEYS = Set.of("role", "model", "engine", "port", "host", "cluster", "cluster-host",
            "cluster-port", "engine-option", "stall-timeout", "id", "threads", "transfer", "max-local-prefill-tokens", "max-prefill-queue",
            "prefill-timeout", "transfer-threads");

    /**
     * @param flags only the flags actually given (same keys as the file)
     * @param file  the config file's object, empty when there is none
     * @throws IllegalArgumentException naming the key and what is wrong
     */
    public static WorkerSettings resolve(Map<String, Object> flags, JsonObject file) {
        Map<String, Object> v = new HashMap<>();
        for (String k : file.fieldNames()) {
            if (k.startsWith("_")) continue; // comments
            if (!KEYS.contains(k)) throw new IllegalArgumentException("unknown key '" + k + "' in the worker config; known: " + new TreeSet<>(KEYS));
            v.put(k, file.getValue(k));
        }
        flags.forEach((k, val) -> {
            if (val != null) v.put(k, val);
        });
        WorkerRole role = role(str(v, "role", "both"));
        String engine = str(v, "engine", EngineNames.DEFAULT);
        EngineNames.check(engine);
        Map<String, Object> engineOptions = new HashMap<>(engineOptions(v.get("engine-option")));
        if (v.get("threads") != null) {
            double threads = number(v, "threads");
            if (threads != Math.rint(threads) || threads < 1) throw new IllegalArgumentException("threads must be a whole number >= 1, got " + v.get("threads"));
            if (!engine.equals(EngineNames.CPU)) throw new IllegalArgumentException("threads applies to the cpu engine, not '" + engine + "'");
            engineOptions.put("threads", (int) threads);
        }
        Object model = v.get("model");
        WorkerOptions o = WorkerOptions.defaults(role)
                .withModelPath(model == null ? null : Path.of(model.toString()))
                .withEngine(engine, engineOptions)
                .withHttp(str(v, "host", "127.0.0.1"), port(v, "port", 0))
                .withWorkerId(v.get("id") == null ? null : v.get("id").toString());
        if (v.get("stall-timeout") != null) {
            double seconds = number(v, "stall-timeout");
            if (seconds <= 0) throw new IllegalArgumentException("stall-timeout must be > 0 seconds");
            o = o.withStallTimeoutMillis(Math.round(seconds * 1000));
        }
        o = o.withDisaggregation(disaggregation(v));
        boolean cluster = v.get("cluster") instanceof Boolean b ? b : Boolean.parseBoolean(str(v, "cluster", "false"));
        Object clusterHost = v.get("cluster-host");
        return new WorkerSettings(o, cluster, clusterHost == null ? null : clusterHost.toString(), port(v, "cluster-port", 0));
    }

    /** Remote prefill and transfer settings; the same keys as flags of the gateway's embedded mode. */
    public static io.tandem.worker.disagg.DisaggregationOptions disaggregation(Map<String, Object> v) {
        var d = io.tandem.worker.disagg.DisaggregationOptions.DEFAULTS.withTransfer(str(v, "transfer", "auto").trim().toLowerCase(Locale.ROOT));
        if (v.get("max-local-prefill-tokens") != null) d = d.withMaxLocalPrefillTokens(whole(v, "max-local-prefill-tokens", 0));
        if (v.get("max-prefill-queue") != null) d = d.withMaxPrefillQueue(whole(v, "max-prefill-queue", 1));
        if (v.get("prefill-timeout") != null) {
            double seconds = number(v, "prefill-timeout");
            if (seconds <= 0) throw new IllegalArgumentException("prefill-timeout must be > 0 seconds");
            d = d.withPrefillTimeoutMillis(Math.round(seconds * 1000));
        }
        if (v.get("transfer-threads") != null) {
            d = d.withTransferThreads(whole(v, "transfer-threads", 1));
        }
        return d;
    }

    private static int whole(Map<String, Object> v, String key, int min) {
        double d = number(v, key);
        if (d != Math.rint(d) || d < min || d > Integer.MAX_VALUE) throw new IllegalArgumentException(key + " must be a whole number >= " + min + ", got " + v.get(key));
        return (int) d;
    }

    static WorkerRole role(String s) {
        try {
            return WorkerRole.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown role '" + s + "'; roles: prefill, decode, both");
        }
    }

    private static String str(Map<String, Object> v, String key, String def) {
        Object o = v.get(key);
        return o == null ? def : o.toString();
    }

    private static double number(Map<String, Object> v, String key) {
        Object o = v.get(key);
        if (o instanceof Number n) return n.doubleValue();
        try {
            return Double.parseDouble(o.toString());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + o + "'");
        }
    }

    private static int port(Map<String, Object> v, String key, int def) {
        if (v.get(key) == null) return def;
        double d = number(v, key);
        if (d != Math.rint(d) || d < 0 || d > 65535) throw new IllegalArgumentException(key + " must be a port 0..65535 (0 = free), got " + v.get(key));
        return (int) d;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> engineOptions(Object o) {
        if (o == null) return Map.of();
        if (o instanceof JsonObject j) return j.getMap();
        if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new IllegalArgumentException("engine-option must be an object of engine settings, got " + o);
    }
}
