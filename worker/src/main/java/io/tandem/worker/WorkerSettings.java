package io.tandem.worker;

import io.tandem.launcher.options.OptionValues;
import io.tandem.launcher.options.Program;
import io.tandem.protocol.WorkerRole;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.registry.cluster.EventLoopPriority;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.tandem.worker.engine.EngineNames;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.tandem.launcher.options.TandemOptions.*;

/**
 * A worker's settings from its options (its conf file with its flags on top, see {@link OptionValues}); the option
 * table, {@link io.tandem.launcher.options.TandemOptions}, says which exist.
 *
 * @param options       the worker itself
 * @param cluster       join the Hazelcast cluster
 * @param clusterHost   event-bus host, null for Hazelcast's
 * @param clusterPort   event-bus port, 0 for a free one
 * @param clusterConfig Hazelcast config file or {@code classpath:NAME}, null to look it up as documented
 * @param drainTimeout  on SIGTERM, how long running streams may take to finish before they are handed over
 * @param otlpEndpoint  where spans go ({@code --otlp-endpoint}, else {@code OTEL_EXPORTER_OTLP_ENDPOINT}), null for no tracing
 * @param eventLoops    how the worker's event loops are scheduled ({@code --event-loop-priority})
 */
public record WorkerSettings(WorkerOptions options, boolean cluster, String clusterHost, int clusterPort, String clusterConfig,
                             Duration drainTimeout, String otlpEndpoint, EventLoopPriority eventLoops) {

    /**
     * @param env the process environment ({@code TANDEM_CLUSTER_SECRET})
     * @throws IllegalArgumentException naming the option and what is wrong
     */
    public static WorkerSettings from(OptionValues v, Map<String, String> env) {
        if (v.program() != Program.WORKER) throw new IllegalArgumentException("not a worker's options: " + v);
        WorkerRole role = WorkerRole.valueOf(v.get(ROLE).toUpperCase(Locale.ROOT));
        String engine = v.get(ENGINE);
        EngineNames.check(engine);
        WorkerOptions o = WorkerOptions.defaults(role)
                .withModelPath(model(v))
                .withEngine(engine, engineOptions(Map.of(), engine, v))
                .withHttp(v.get(WORKER_HOST), v.get(WORKER_PORT))
                .withWorkerId(v.get(ID))
                .withDisaggregation(disaggregation(DisaggregationOptions.DEFAULTS, v))
                .withAdvertiseHost(v.get(ADVERTISE_HOST))
                .withTransferPort(v.get(TRANSFER_PORT))
                .withSecurity(NodeSecurityOptions.resolve(v, env));
        if (v.isGiven(STALL_TIMEOUT)) o = o.withStallTimeoutMillis(Math.round(v.get(STALL_TIMEOUT) * 1000));
        return new WorkerSettings(o, v.get(CLUSTER), v.get(CLUSTER_HOST), v.get(CLUSTER_PORT), v.get(CLUSTER_CONFIG),
                Duration.ofMillis(Math.round(v.get(DRAIN_TIMEOUT) * 1000)),
                v.get(OTLP_ENDPOINT) != null ? v.get(OTLP_ENDPOINT) : env.get(io.tandem.worker.tracing.Tracing.ENDPOINT_ENV),
                EventLoopPriority.parse(v.get(EVENT_LOOP_PRIORITY)));
    }

    /**
     * Settings from flags by option name (a String value is parsed like the flag's text; null means not given) over a
     * conf file's JSON object, with the process environment.
     *
     * @throws IllegalArgumentException naming the key and what is wrong
     */
    public static WorkerSettings resolve(Map<String, Object> flags, JsonObject file) {
        OptionValues v = OptionValues.merge(Program.WORKER,
                OptionValues.fromConf(Program.WORKER, file.getMap(), "the worker config", w -> { }),
                OptionValues.fromNamed(Program.WORKER, flags));
        return from(v, System.getenv());
    }

    /** The address published to other members, or null to derive it at startup. */
    public String advertiseHost() {
        return options.advertiseHost();
    }

    public int transferPort() {
        return options.transferPort();
    }

    public NodeSecurity security() {
        return options.security();
    }

    private static Path model(OptionValues v) {
        List<Path> models = v.get(MODEL);
        if (models == null || models.isEmpty()) return null;
        if (models.size() > 1) {
            throw new IllegalArgumentException("a worker serves one model; --model was given " + models.size() + " times");
        }
        return models.getFirst();
    }

    /**
     * {@code base} with the given {@code --engine-option}s and {@code --threads} on top (gateway and worker alike).
     *
     * @throws IllegalArgumentException {@code --threads} for an engine other than cpu
     */
    public static Map<String, Object> engineOptions(Map<String, Object> base, String engine, OptionValues v) {
        Map<String, Object> merged = new HashMap<>(base);
        v.given(ENGINE_OPTION).ifPresent(merged::putAll);
        v.given(THREADS).ifPresent(threads -> {
            if (!engine.equals(EngineNames.CPU)) {
                throw new IllegalArgumentException("--threads applies to the cpu engine, not '" + engine + "'");
            }
            merged.put("threads", threads);
        });
        return merged;
    }

    /** {@code base} with the given remote prefill and transfer options on top (gateway and worker alike). */
    public static DisaggregationOptions disaggregation(DisaggregationOptions base, OptionValues v) {
        DisaggregationOptions d = base;
        if (v.isGiven(TRANSFER)) d = d.withTransfer(v.get(TRANSFER));
        if (v.isGiven(MAX_LOCAL_PREFILL_TOKENS)) d = d.withMaxLocalPrefillTokens(v.get(MAX_LOCAL_PREFILL_TOKENS));
        if (v.isGiven(MAX_PREFILL_QUEUE)) d = d.withMaxPrefillQueue(v.get(MAX_PREFILL_QUEUE));
        if (v.isGiven(PREFILL_TIMEOUT)) d = d.withPrefillTimeoutMillis(Math.round(v.get(PREFILL_TIMEOUT) * 1000));
        if (v.isGiven(TRANSFER_THREADS)) d = d.withTransferThreads(v.get(TRANSFER_THREADS));
        if (v.isGiven(NIXL_HOME)) d = d.withNixlHome(v.get(NIXL_HOME));
        return d;
    }
}
