package io.tandem.gateway;

import io.tandem.gateway.dispatch.DispatchOptions;
import io.tandem.gateway.http.HttpSettings;
import io.tandem.gateway.router.RouterMode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a gateway can be told. The JSON form ({@code conf/gateway.json}, {@code --conf})
 * uses the long command-line flag names as keys; keys starting with {@code _} are comments.
 */
public final class GatewayOptions {

    private String host = "0.0.0.0";
    private int port = 8000;
    private final List<Path> models = new ArrayList<>();
    private String engine = io.tandem.worker.engine.EngineNames.DEFAULT;
    private Map<String, Object> engineOptions = Map.of();
    private RouterMode router = RouterMode.KV;
    private io.tandem.gateway.router.KvCostModel kvCostModel = io.tandem.gateway.router.KvCostModel.DEFAULT;
    private boolean kvEvents = true;
    private int prefillWorkers = 1;
    private io.tandem.worker.disagg.DisaggregationOptions disaggregation = io.tandem.worker.disagg.DisaggregationOptions.DEFAULTS;
    private final List<String> apiKeys = new ArrayList<>();
    private long maxBodyBytes = 4L << 20;
    private long requestTimeoutMillis = 600_000;
    private int initialCredits = 32;
    private long acceptTimeoutMillis = 10_000;
    private long streamIdleTimeoutMillis = 60_000;
    private int retryAfterSeconds = 1;
    private int sseWriteQueueBytes;
    private int sendBufferBytes;
    private boolean cluster;
    private String clusterHost;
    private int clusterPort;
    private String clusterConfig;

    public static final Set<String> KEYS = Set.of("host", "port", "model", "engine", "engine-options", "router", "api-key",
            "api_keys", "max-body-bytes", "request-timeout-seconds", "initial-credits", "accept-timeout-ms",
            "stream-idle-timeout-ms", "retry-after-seconds", "sse-write-queue-bytes", "send-buffer-bytes", "cluster",
            "cluster-host", "cluster-port", "cluster-config", "router-prefill-weight", "router-load-weight", "router-temperature", "kv-events",
            "prefill-workers", "max-local-prefill-tokens", "transfer");

    /** Defaults overridden by a JSON object; unknown keys are an error (a typo should not pass silently). */
    public static GatewayOptions fromJson(JsonObject json) {
        GatewayOptions o = new GatewayOptions();
        for (String key : json.fieldNames()) {
            if (key.startsWith("_")) continue;
            if (!KEYS.contains(key)) throw new IllegalArgumentException("unknown gateway option '" + key + "'; known: " + new java.util.TreeSet<>(KEYS));
            Object v = json.getValue(key);
            try {
                switch (key) {
                    case "host" -> o.setHost((String) v);
                    case "port" -> o.setPort(((Number) v).intValue());
                    case "model" -> strings(v).forEach(s -> o.addModel(Path.of(s)));
                    case "engine" -> o.setEngine((String) v);
                    case "engine-options" -> o.setEngineOptions(((JsonObject) v).getMap());
                    case "router" -> o.setRouter(RouterMode.parse((String) v));
                    case "api-key", "api_keys" -> strings(v).forEach(o::addApiKey);
                    case "max-body-bytes" -> o.setMaxBodyBytes(((Number) v).longValue());
                    case "request-timeout-seconds" -> o.setRequestTimeoutMillis((long) (((Number) v).doubleValue() * 1000));
                    case "initial-credits" -> o.setInitialCredits(((Number) v).intValue());
                    case "accept-timeout-ms" -> o.setAcceptTimeoutMillis(((Number) v).longValue());
                    case "stream-idle-timeout-ms" -> o.setStreamIdleTimeoutMillis(((Number) v).longValue());
                    case "retry-after-seconds" -> o.setRetryAfterSeconds(((Number) v).intValue());
                    case "sse-write-queue-bytes" -> o.setSseWriteQueueBytes(((Number) v).intValue());
                    case "send-buffer-bytes" -> o.setSendBufferBytes(((Number) v).intValue());
                    case "cluster" -> o.setCluster((Boolean) v);
                    case "cluster-host" -> o.setClusterHost((String) v);
                    case "cluster-port" -> o.setClusterPort(((Number) v).intValue());
                    case "cluster-config" -> o.setClusterConfig((String) v);
                    case "kv-events" -> o.setKvEvents((Boolean) v);
                    case "prefill-workers" -> o.setPrefillWorkers(((Number) v).intValue());
                    case "max-local-prefill-tokens" -> o.setDisaggregation(o.disaggregation.withMaxLocalPrefillTokens(((Number) v).intValue()));
                    case "transfer" -> o.setDisaggregation(o.disaggregation.withTransfer((String) v));
                    case "router-prefill-weight" -> o.setKvCostModel(new io.tandem.gateway.router.KvCostModel(((Number) v).doubleValue(),
                            o.kvCostModel.loadWeight(), o.kvCostModel.temperature()));
                    case "router-load-weight" -> o.setKvCostModel(new io.tandem.gateway.router.KvCostModel(o.kvCostModel.prefillWeight(),
                            ((Number) v).doubleValue(), o.kvCostModel.temperature()));
                    case "router-temperature" -> o.setKvCostModel(new io.tandem.gateway.router.KvCostModel(o.kvCostModel.prefillWeight(),
                            o.kvCostModel.loadWeight(), ((Number) v).doubleValue()));
                    default -> throw new IllegalStateException(key);
                }
            } catch (ClassCastException e) {
                throw new IllegalArgumentException("gateway option '" + key + "' has the wrong type: " + v);
            }
        }
        return o;
    }

    private static List<String> strings(Object v) {
        if (v instanceof String s) return List.of(s);
        if (v instanceof JsonArray a) return a.stream().map(x -> (String) x).toList();
        throw new ClassCastException();
    }

    HttpSettings httpSettings() {
        return new HttpSettings(apiKeys, maxBodyBytes, sseWriteQueueBytes, requestTimeoutMillis, retryAfterSeconds);
    }

    DispatchOptions dispatchOptions() {
        return new DispatchOptions(initialCredits, acceptTimeoutMillis, streamIdleTimeoutMillis, 2_000, retryAfterSeconds);
    }

    public String host() { return host; }
    public int port() { return port; }
    /** GGUF files to serve; empty means the bundled model. */
    public List<Path> models() { return List.copyOf(models); }
    public String engine() { return engine; }
    /** KV routing's weights (cost = prefill weight x uncached blocks + load weight x active blocks) and softmax temperature. */
    public io.tandem.gateway.router.KvCostModel kvCostModel() { return kvCostModel; }
    public GatewayOptions setKvCostModel(io.tandem.gateway.router.KvCostModel m) { this.kvCostModel = m; return this; }
    /** Index the workers' KV events (true), or approximate: assume a routed prompt stays cached for a TTL (false). */
    public boolean kvEvents() { return kvEvents; }
    /** Embedded mode: prefill workers beside the decode worker; 0 runs one worker doing both (aggregated). */
    public int prefillWorkers() { return prefillWorkers; }
    public GatewayOptions setPrefillWorkers(int n) {
        if (n < 0 || n > 16) throw new IllegalArgumentException("prefill-workers must be 0..16, got " + n);
        this.prefillWorkers = n;
        return this;
    }
    /** Embedded mode: remote prefill and KV transfer settings of the workers. */
    public io.tandem.worker.disagg.DisaggregationOptions disaggregation() { return disaggregation; }
    public GatewayOptions setDisaggregation(io.tandem.worker.disagg.DisaggregationOptions d) { this.disaggregation = d; return this; }
    public GatewayOptions setKvEvents(boolean on) { this.kvEvents = on; return this; }
    public Map<String, Object> engineOptions() { return engineOptions; }
    public RouterMode router() { return router; }
    public List<String> apiKeys() { return List.copyOf(apiKeys); }
    public long maxBodyBytes() { return maxBodyBytes; }
    public long requestTimeoutMillis() { return requestTimeoutMillis; }
    public int initialCredits() { return initialCredits; }
    public long acceptTimeoutMillis() { return acceptTimeoutMillis; }
    public long streamIdleTimeoutMillis() { return streamIdleTimeoutMillis; }
    public int retryAfterSeconds() { return retryAfterSeconds; }
    public int sseWriteQueueBytes() { return sseWriteQueueBytes; }
    public int sendBufferBytes() { return sendBufferBytes; }
    public boolean cluster() { return cluster; }
    public String clusterHost() { return clusterHost; }
    public int clusterPort() { return clusterPort; }
    public String clusterConfig() { return clusterConfig; }

    public GatewayOptions setHost(String host) { this.host = host; return this; }

    /** 0 picks a free port. */
    public GatewayOptions setPort(int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        this.port = port;
        return this;
    }

    public GatewayOptions addModel(Path gguf) { models.add(gguf); return this; }

    public GatewayOptions setModels(List<Path> ggufs) { models.clear(); models.addAll(ggufs); return this; }

    public GatewayOptions setEngine(String engine) { this.engine = engine; return this; }

    /** Engine settings of the embedded workers (cpu: CpuEngineConfig.KEYS; sim: SimConfig component names). */
    public GatewayOptions setEngineOptions(Map<String, Object> options) { this.engineOptions = Map.copyOf(new LinkedHashMap<>(options)); return this; }

    public GatewayOptions setRouter(RouterMode router) { this.router = router; return this; }

    public GatewayOptions addApiKey(String key) {
        if (key == null || key.isBlank()) throw new IllegalArgumentException("an API key must not be blank");
        apiKeys.add(key);
        return this;
    }

    public GatewayOptions setApiKeys(List<String> keys) {
        apiKeys.clear();
        keys.forEach(this::addApiKey);
        return this;
    }

    public GatewayOptions setMaxBodyBytes(long bytes) { this.maxBodyBytes = positive("max-body-bytes", bytes); return this; }
    public GatewayOptions setRequestTimeoutMillis(long ms) { this.requestTimeoutMillis = positive("request-timeout", ms); return this; }
    public GatewayOptions setInitialCredits(int credits) { this.initialCredits = (int) positive("initial-credits", credits); return this; }
    public GatewayOptions setAcceptTimeoutMillis(long ms) { this.acceptTimeoutMillis = positive("accept-timeout-ms", ms); return this; }
    public GatewayOptions setStreamIdleTimeoutMillis(long ms) { this.streamIdleTimeoutMillis = positive("stream-idle-timeout-ms", ms); return this; }
    public GatewayOptions setRetryAfterSeconds(int s) { this.retryAfterSeconds = s; return this; }

    /** High-water mark of a streaming response's write queue; 0 keeps Vert.x's default. */
    public GatewayOptions setSseWriteQueueBytes(int bytes) { this.sseWriteQueueBytes = bytes; return this; }

    /** SO_SNDBUF of client connections; 0 keeps the OS default (tests make it small). */
    public GatewayOptions setSendBufferBytes(int bytes) { this.sendBufferBytes = bytes; return this; }

    public GatewayOptions setCluster(boolean cluster) { this.cluster = cluster; return this; }
    public GatewayOptions setClusterHost(String host) { this.clusterHost = host; return this; }
    public GatewayOptions setClusterPort(int port) { this.clusterPort = port; return this; }

    /** A Hazelcast config file (or classpath:name); null looks it up as TandemCluster documents. */
    public GatewayOptions setClusterConfig(String location) { this.clusterConfig = location; return this; }

    private static long positive(String name, long v) {
        if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        return v;
    }
}
