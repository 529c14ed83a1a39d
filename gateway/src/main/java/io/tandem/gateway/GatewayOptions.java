package io.tandem.gateway;

import io.tandem.gateway.dispatch.DispatchOptions;
import io.tandem.gateway.http.HttpSettings;
import io.tandem.gateway.router.RouterMode;
import io.tandem.launcher.options.OptionDef;
import io.tandem.launcher.options.OptionValues;
import io.tandem.launcher.options.Program;
import io.tandem.launcher.options.TandemOptions;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.registry.cluster.EventLoopPriority;
import io.tandem.worker.NodeSecurityOptions;
import io.tandem.worker.WorkerSettings;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a gateway can be told, programmatically ({@code new GatewayOptions().setHost(...)...}) or from the
 * gateway's options in {@link TandemOptions} ({@link #apply}): the JSON form ({@code conf/gateway.json},
 * {@code --conf}) uses the long flag names as keys; keys starting with {@code _} are comments.
 */
public final class GatewayOptions {
    private static final System.Logger LOG = System.getLogger(GatewayOptions.class.getName());

    private String host = TandemOptions.GATEWAY_HOST.defaultValue();
    private int port = TandemOptions.GATEWAY_PORT.defaultValue();
    private int grpcPort = TandemOptions.GRPC_PORT.defaultValue();
    private long grpcMaxMessageBytes = TandemOptions.GRPC_MAX_MESSAGE_BYTES.defaultValue();
    private String otlpEndpoint;
    private io.tandem.worker.tracing.Tracing tracing;
    private final List<Path> models = new ArrayList<>();
    private String engine = io.tandem.worker.engine.EngineNames.DEFAULT;
    private Map<String, Object> engineOptions = Map.of();
    private RouterMode router = RouterMode.KV;
    private io.tandem.gateway.router.KvCostModel kvCostModel = io.tandem.gateway.router.KvCostModel.DEFAULT;
    private boolean kvEvents = true;
    private int eventLoops = io.tandem.gateway.embedded.EmbeddedWorkers.defaultEventLoops(
            Runtime.getRuntime().availableProcessors());
    private EventLoopPriority eventLoopPriority = EventLoopPriority.parse(TandemOptions.EVENT_LOOP_PRIORITY.defaultValue());
    private int prefillWorkers = io.tandem.gateway.embedded.EmbeddedWorkers.defaultPrefillWorkers(
            Runtime.getRuntime().availableProcessors());
    private io.tandem.worker.disagg.DisaggregationOptions disaggregation = io.tandem.worker.disagg.DisaggregationOptions.DEFAULTS;
    private final List<String> apiKeys = new ArrayList<>();
    private long maxBodyBytes = TandemOptions.MAX_BODY_BYTES.defaultValue();
    private long requestTimeoutMillis = Math.round(TandemOptions.REQUEST_TIMEOUT_SECONDS.defaultValue() * 1000);
    private int initialCredits = TandemOptions.INITIAL_CREDITS.defaultValue();
    private long acceptTimeoutMillis = TandemOptions.ACCEPT_TIMEOUT_MS.defaultValue();
    private long streamIdleTimeoutMillis = TandemOptions.STREAM_IDLE_TIMEOUT_MS.defaultValue();
    private int retryAfterSeconds = TandemOptions.RETRY_AFTER_SECONDS.defaultValue();
    private int migrationLimit = TandemOptions.MIGRATION_LIMIT.defaultValue();
    private long maxQueueWaitMillis = Math.round(TandemOptions.MAX_QUEUE_WAIT.defaultValue() * 1000);
    private int maxQueue = TandemOptions.MAX_QUEUE.defaultValue();
    private java.time.Duration drainTimeout = seconds(TandemOptions.DRAIN_TIMEOUT.defaultValue());
    private int sseWriteQueueBytes;
    private int sendBufferBytes;
    private io.tandem.gateway.slo.SloAdmission admission = io.tandem.gateway.slo.SloAdmission.NONE;
    private io.tandem.gateway.slo.SloTargets sloDefaults = io.tandem.gateway.slo.SloTargets.NONE;
    private boolean cluster;
    private String clusterHost;
    private int clusterPort;
    private String clusterConfig;
    private String advertiseHost;
    private NodeSecurity security = NodeSecurity.NONE;

    /** The keys a gateway conf file may hold (deprecated ones aside). */
    public static final Set<String> KEYS = TandemOptions.of(Program.GATEWAY).stream().filter(d -> !d.flagOnly())
            .map(OptionDef::name).collect(java.util.stream.Collectors.toUnmodifiableSet());

    /**
     * Defaults overridden by a JSON object; unknown keys are an error (a typo should not pass silently), and so is a
     * value of the wrong type (the message names the key).
     */
    public static GatewayOptions fromJson(JsonObject json) {
        Map<OptionDef<?>, Object> given = OptionValues.fromConf(Program.GATEWAY, json.getMap(), "the gateway config",
                warning -> LOG.log(System.Logger.Level.WARNING, warning));
        return new GatewayOptions().apply(OptionValues.merge(Program.GATEWAY, given, Map.of()), System.getenv());
    }

    /**
     * These options with the given ones on top (options not given keep their current values).
     *
     * @param env the process environment ({@code TANDEM_CLUSTER_SECRET})
     * @throws IllegalArgumentException naming the option and what is wrong
     */
    public GatewayOptions apply(OptionValues v, Map<String, String> env) {
        if (v.program() != Program.GATEWAY) throw new IllegalArgumentException("not a gateway's options: " + v);
        v.given(TandemOptions.GATEWAY_HOST).ifPresent(this::setHost);
        v.given(TandemOptions.GATEWAY_PORT).ifPresent(this::setPort);
        v.given(TandemOptions.GRPC_PORT).ifPresent(this::setGrpcPort);
        v.given(TandemOptions.GRPC_MAX_MESSAGE_BYTES).ifPresent(this::setGrpcMaxMessageBytes);
        v.given(TandemOptions.MODEL).ifPresent(this::setModels);
        v.given(TandemOptions.ENGINE).ifPresent(e -> {
            io.tandem.worker.engine.EngineNames.check(e);
            setEngine(e);
        });
        setEngineOptions(WorkerSettings.engineOptions(engineOptions, engine, v));
        v.given(TandemOptions.ROUTER).ifPresent(r -> setRouter(RouterMode.parse(r)));
        v.given(TandemOptions.KV_EVENTS).ifPresent(this::setKvEvents);
        io.tandem.gateway.router.KvCostModel m = kvCostModel;
        setKvCostModel(new io.tandem.gateway.router.KvCostModel(
                v.given(TandemOptions.ROUTER_PREFILL_WEIGHT).orElse(m.prefillWeight()),
                v.given(TandemOptions.ROUTER_LOAD_WEIGHT).orElse(m.loadWeight()),
                v.given(TandemOptions.ROUTER_TEMPERATURE).orElse(m.temperature())));
        v.given(TandemOptions.ADMISSION).ifPresent(a -> setAdmission(io.tandem.gateway.slo.SloAdmission.parse(a)));
        if (v.given(TandemOptions.SLO_TTFT_MS).isPresent() || v.given(TandemOptions.SLO_TPOT_MS).isPresent()) {
            setSloDefaults(new io.tandem.gateway.slo.SloTargets(v.given(TandemOptions.SLO_TTFT_MS).orElse(sloDefaults.ttftMs()),
                    v.given(TandemOptions.SLO_TPOT_MS).orElse(sloDefaults.tpotMs())));
        }
        v.given(TandemOptions.API_KEY).ifPresent(this::setApiKeys);
        v.given(TandemOptions.MAX_BODY_BYTES).ifPresent(this::setMaxBodyBytes);
        v.given(TandemOptions.REQUEST_TIMEOUT_SECONDS).ifPresent(s -> setRequestTimeoutMillis(Math.round(s * 1000)));
        v.given(TandemOptions.INITIAL_CREDITS).ifPresent(this::setInitialCredits);
        v.given(TandemOptions.ACCEPT_TIMEOUT_MS).ifPresent(this::setAcceptTimeoutMillis);
        v.given(TandemOptions.STREAM_IDLE_TIMEOUT_MS).ifPresent(this::setStreamIdleTimeoutMillis);
        v.given(TandemOptions.RETRY_AFTER_SECONDS).ifPresent(this::setRetryAfterSeconds);
        v.given(TandemOptions.MIGRATION_LIMIT).ifPresent(this::setMigrationLimit);
        v.given(TandemOptions.MAX_QUEUE_WAIT).ifPresent(s -> setMaxQueueWaitMillis(Math.round(s * 1000)));
        v.given(TandemOptions.MAX_QUEUE).ifPresent(this::setMaxQueue);
        v.given(TandemOptions.DRAIN_TIMEOUT).ifPresent(s -> setDrainTimeout(seconds(s)));
        v.given(TandemOptions.SSE_WRITE_QUEUE_BYTES).ifPresent(this::setSseWriteQueueBytes);
        v.given(TandemOptions.SEND_BUFFER_BYTES).ifPresent(this::setSendBufferBytes);
        v.given(TandemOptions.PREFILL_WORKERS).ifPresent(this::setPrefillWorkers);
        v.given(TandemOptions.EVENT_LOOPS).ifPresent(this::setEventLoops);
        v.given(TandemOptions.EVENT_LOOP_PRIORITY).ifPresent(p -> setEventLoopPriority(EventLoopPriority.parse(p)));
        setDisaggregation(WorkerSettings.disaggregation(disaggregation, v));
        v.given(TandemOptions.CLUSTER).ifPresent(this::setCluster);
        v.given(TandemOptions.CLUSTER_HOST).ifPresent(this::setClusterHost);
        v.given(TandemOptions.CLUSTER_PORT).ifPresent(this::setClusterPort);
        v.given(TandemOptions.CLUSTER_CONFIG).ifPresent(this::setClusterConfig);
        v.given(TandemOptions.ADVERTISE_HOST).ifPresent(this::setAdvertiseHost);
        v.given(TandemOptions.OTLP_ENDPOINT).ifPresent(this::setOtlpEndpoint);
        NodeSecurity configured = NodeSecurityOptions.resolve(v, env);
        if (configured.secret() != null || configured.tls() != null) setSecurity(configured);
        return this;
    }

    HttpSettings httpSettings() {
        return new HttpSettings(apiKeys, maxBodyBytes, sseWriteQueueBytes, requestTimeoutMillis, retryAfterSeconds);
    }

    io.tandem.gateway.grpc.GrpcSettings grpcSettings() {
        return new io.tandem.gateway.grpc.GrpcSettings(grpcPort, grpcMaxMessageBytes, apiKeys, requestTimeoutMillis,
                sseWriteQueueBytes);
    }

    DispatchOptions dispatchOptions() {
        return new DispatchOptions(initialCredits, acceptTimeoutMillis, streamIdleTimeoutMillis, 2_000, retryAfterSeconds,
                migrationLimit, maxQueueWaitMillis, maxQueue);
    }

    public String host() { return host; }
    /** Whether a request no worker is predicted to serve within its TTFT SLO is refused ({@code --admission}). */
    public io.tandem.gateway.slo.SloAdmission admission() { return admission; }
    public GatewayOptions setAdmission(io.tandem.gateway.slo.SloAdmission a) { this.admission = java.util.Objects.requireNonNull(a); return this; }
    /** The SLOs of requests that carry none ({@code --slo-ttft-ms}, {@code --slo-tpot-ms}). */
    public io.tandem.gateway.slo.SloTargets sloDefaults() { return sloDefaults; }
    public GatewayOptions setSloDefaults(io.tandem.gateway.slo.SloTargets slo) { this.sloDefaults = java.util.Objects.requireNonNull(slo); return this; }
    public int port() { return port; }
    /** The gRPC server's port (on {@link #host()}). */
    public int grpcPort() { return grpcPort; }
    /** gRPC request messages larger than this are refused with RESOURCE_EXHAUSTED. */
    public long grpcMaxMessageBytes() { return grpcMaxMessageBytes; }
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
    /** Embedded mode: Vert.x event loops; 0 leaves Vert.x's default. */
    public int eventLoops() { return eventLoops; }
    public GatewayOptions setEventLoops(int n) {
        if (n < 0) throw new IllegalArgumentException("event-loops must be >= 0, got " + n);
        this.eventLoops = n;
        return this;
    }
    /** How the event loops are scheduled ({@code --event-loop-priority}). */
    public EventLoopPriority eventLoopPriority() { return eventLoopPriority; }
    public GatewayOptions setEventLoopPriority(EventLoopPriority p) {
        this.eventLoopPriority = Objects.requireNonNull(p, "eventLoopPriority");
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
    public int migrationLimit() { return migrationLimit; }
    public long maxQueueWaitMillis() { return maxQueueWaitMillis; }
    public int maxQueue() { return maxQueue; }
    /** On SIGTERM, how long in-flight requests may take to finish (and, embedded, then the workers' streams). */
    public java.time.Duration drainTimeout() { return drainTimeout; }
    public GatewayOptions setDrainTimeout(java.time.Duration timeout) {
        if (timeout.isNegative()) throw new IllegalArgumentException("drain-timeout must be >= 0, got " + timeout);
        this.drainTimeout = timeout;
        return this;
    }

    private static java.time.Duration seconds(double s) {
        return java.time.Duration.ofMillis(Math.round(s * 1000));
    }
    public int sseWriteQueueBytes() { return sseWriteQueueBytes; }
    public int sendBufferBytes() { return sendBufferBytes; }
    public boolean cluster() { return cluster; }
    public String clusterHost() { return clusterHost; }
    public int clusterPort() { return clusterPort; }
    public String clusterConfig() { return clusterConfig; }
    /** The address published to other members ({@code --advertise-host}), or null to derive it at startup. */
    public String advertiseHost() { return advertiseHost; }
    /** Cluster secret and TLS files ({@link NodeSecurity#NONE} unless configured; embedded mode makes its own secret). */
    public NodeSecurity security() { return security; }

    public GatewayOptions setHost(String host) { this.host = host; return this; }

    /** 0 picks a free port. */
    public GatewayOptions setPort(int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        this.port = port;
        return this;
    }

    /** Where spans go over OTLP/gRPC ({@code --otlp-endpoint}); null: {@code OTEL_EXPORTER_OTLP_ENDPOINT}, else no tracing. */
    public GatewayOptions setOtlpEndpoint(String url) {
        this.otlpEndpoint = url;
        return this;
    }

    public String otlpEndpoint() {
        return otlpEndpoint;
    }

    /**
     * The tracing of the gateway and its embedded workers, owned by the caller (tests: an in-memory exporter); it
     * overrides {@link #setOtlpEndpoint}. Null (the default): built from the endpoint and closed on stop.
     */
    public GatewayOptions setTracing(io.tandem.worker.tracing.Tracing tracing) {
        this.tracing = tracing;
        return this;
    }

    public io.tandem.worker.tracing.Tracing tracing() {
        return tracing;
    }

    /** 0 picks a free port. */
    public GatewayOptions setGrpcPort(int port) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("grpc-port must be 0..65535, got " + port);
        this.grpcPort = port;
        return this;
    }

    public GatewayOptions setGrpcMaxMessageBytes(long bytes) { this.grpcMaxMessageBytes = positive("grpc-max-message-bytes", bytes); return this; }

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
    /** How often a request may move to another worker; 0 disables migration. */
    public GatewayOptions setMigrationLimit(int n) { this.migrationLimit = n; return this; }
    /** How long a request may wait for a busy worker; 0 refuses at once (429) as before queueing existed. */
    public GatewayOptions setMaxQueueWaitMillis(long ms) { this.maxQueueWaitMillis = ms; return this; }
    public GatewayOptions setMaxQueue(int n) { this.maxQueue = n; return this; }

    /** High-water mark of a streaming response's write queue; 0 keeps Vert.x's default. */
    public GatewayOptions setSseWriteQueueBytes(int bytes) { this.sseWriteQueueBytes = bytes; return this; }

    /** SO_SNDBUF of client connections; 0 keeps the OS default (tests make it small). */
    public GatewayOptions setSendBufferBytes(int bytes) { this.sendBufferBytes = bytes; return this; }

    public GatewayOptions setCluster(boolean cluster) { this.cluster = cluster; return this; }
    public GatewayOptions setClusterHost(String host) { this.clusterHost = host; return this; }
    public GatewayOptions setClusterPort(int port) { this.clusterPort = port; return this; }
    public GatewayOptions setAdvertiseHost(String host) { this.advertiseHost = host == null || host.isBlank() ? null : host; return this; }
    public GatewayOptions setSecurity(NodeSecurity security) { this.security = java.util.Objects.requireNonNull(security, "security"); return this; }

    /** A Hazelcast config file (or classpath:name); null looks it up as TandemCluster documents. */
    public GatewayOptions setClusterConfig(String location) { this.clusterConfig = location; return this; }

    private static long positive(String name, long v) {
        if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        return v;
    }
}
