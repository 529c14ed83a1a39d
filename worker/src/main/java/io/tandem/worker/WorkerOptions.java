package io.tandem.worker;

import io.tandem.protocol.WorkerRole;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.tandem.worker.engine.EngineNames;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * How to run one worker.
 *
 * @param role               prefill, decode or both
 * @param modelPath          the GGUF file to serve; null for the bundled model
 * @param engine             engine name ({@code cpu} or {@code sim})
 * @param engineOptions      engine-specific settings (cpu: {@code CpuEngineConfig.KEYS}; sim: the {@code SimConfig} component names)
 * @param host               host the worker's HTTP server binds ({@code --host})
 * @param httpPort           its port: 0 picks a free one, -1 runs no HTTP server (embedded mode)
 * @param workerId           fixed id, or null for {@code <role>-<8 hex digits>}
 * @param stallTimeoutMillis a request whose consumer grants no credit this long is cancelled
 * @param loadReportMillis   how often the engine's load is reported to the registry
 * @param outboxCapacity     tokens buffered per request beyond its credit (a pause takes effect
 *                           at the engine's next step, so a few suffice)
 * @param disaggregation     remote prefill and KV transfer settings
 * @param advertiseHost      the address published to other members (event bus, {@code /route} URL, transfer agent;
 *                           {@code --advertise-host}), or null to derive it at startup
 * @param transferPort       the transfer agent's control port ({@code --transfer-port}), 0 for a free one
 * @param security           cluster secret, insecure-transfer switch and TLS files ({@link NodeSecurity#NONE} when
 *                           nothing is configured)
 */
public record WorkerOptions(
        WorkerRole role,
        Path modelPath,
        String engine,
        Map<String, Object> engineOptions,
        String host,
        int httpPort,
        String workerId,
        long stallTimeoutMillis,
        long loadReportMillis,
        int outboxCapacity,
        DisaggregationOptions disaggregation,
        String advertiseHost,
        int transferPort,
        NodeSecurity security) {

    public static final long DEFAULT_STALL_TIMEOUT_MILLIS = 60_000;
    public static final long DEFAULT_LOAD_REPORT_MILLIS = 1_000;
    public static final int DEFAULT_OUTBOX_CAPACITY = 64;
    public static final String DEFAULT_HOST = "127.0.0.1";

    public WorkerOptions {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(engine, "engine");
        engineOptions = engineOptions == null ? Map.of() : engineOptions.entrySet().stream()
                .filter(e -> e.getValue() != null)
                .collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
        host = host == null ? DEFAULT_HOST : host;
        if (httpPort < -1 || httpPort > 65535) throw new IllegalArgumentException("httpPort must be -1..65535, got " + httpPort);
        if (stallTimeoutMillis < 1) throw new IllegalArgumentException("stallTimeoutMillis must be >= 1");
        if (loadReportMillis < 1) throw new IllegalArgumentException("loadReportMillis must be >= 1");
        if (outboxCapacity < 1) throw new IllegalArgumentException("outboxCapacity must be >= 1");
        disaggregation = disaggregation == null ? DisaggregationOptions.DEFAULTS : disaggregation;
        if (advertiseHost != null && advertiseHost.isBlank()) advertiseHost = null;
        if (transferPort < 0 || transferPort > 65535) throw new IllegalArgumentException("transferPort must be 0..65535, got " + transferPort);
        security = security == null ? NodeSecurity.NONE : security;
    }

    /** A worker of {@code role} on the bundled model, CPU engine, HTTP on a free port of 127.0.0.1, no security. */
    public static WorkerOptions defaults(WorkerRole role) {
        return new WorkerOptions(role, null, EngineNames.DEFAULT, Map.of(), DEFAULT_HOST, 0, null,
                DEFAULT_STALL_TIMEOUT_MILLIS, DEFAULT_LOAD_REPORT_MILLIS, DEFAULT_OUTBOX_CAPACITY, DisaggregationOptions.DEFAULTS,
                null, 0, NodeSecurity.NONE);
    }

    public WorkerOptions withModelPath(Path path) {
        return new WorkerOptions(role, path, engine, engineOptions, host, httpPort, workerId, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, disaggregation, advertiseHost, transferPort, security);
    }

    public WorkerOptions withEngine(String name, Map<String, Object> options) {
        return new WorkerOptions(role, modelPath, name, options, host, httpPort, workerId, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, disaggregation, advertiseHost, transferPort, security);
    }

    public WorkerOptions withHttp(String host, int port) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, port, workerId, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, disaggregation, advertiseHost, transferPort, security);
    }

    /** No HTTP server of its own (embedded in the gateway, which serves /metrics). */
    public WorkerOptions withoutHttp() {
        return withHttp(host, -1);
    }

    public WorkerOptions withWorkerId(String id) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, httpPort, id, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, disaggregation, advertiseHost, transferPort, security);
    }

    public WorkerOptions withStallTimeoutMillis(long millis) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, httpPort, workerId, millis,
                loadReportMillis, outboxCapacity, disaggregation, advertiseHost, transferPort, security);
    }

    public WorkerOptions withLoadReportMillis(long millis) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, httpPort, workerId, stallTimeoutMillis,
                millis, outboxCapacity, disaggregation, advertiseHost, transferPort, security);
    }

    public WorkerOptions withDisaggregation(DisaggregationOptions d) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, httpPort, workerId, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, d, advertiseHost, transferPort, security);
    }

    public WorkerOptions withOutboxCapacity(int capacity) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, httpPort, workerId, stallTimeoutMillis,
                loadReportMillis, capacity, disaggregation, advertiseHost, transferPort, security);
    }

    /** @param host the address published to other members, or null to derive it at startup */
    public WorkerOptions withAdvertiseHost(String host) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, this.host, httpPort, workerId, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, disaggregation, host, transferPort, security);
    }

    /** @param port the transfer agent's control port, 0 for a free one */
    public WorkerOptions withTransferPort(int port) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, httpPort, workerId, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, disaggregation, advertiseHost, port, security);
    }

    public WorkerOptions withSecurity(NodeSecurity s) {
        return new WorkerOptions(role, modelPath, engine, engineOptions, host, httpPort, workerId, stallTimeoutMillis,
                loadReportMillis, outboxCapacity, disaggregation, advertiseHost, transferPort, s);
    }
}
