package io.tandem.launcher.options;

import io.tandem.launcher.options.ValueType.Choice;
import io.tandem.launcher.options.ValueType.Count;
import io.tandem.launcher.options.ValueType.Decimal;
import io.tandem.launcher.options.ValueType.FilePath;
import io.tandem.launcher.options.ValueType.FilePaths;
import io.tandem.launcher.options.ValueType.Settings;
import io.tandem.launcher.options.ValueType.Switch;
import io.tandem.launcher.options.ValueType.Text;
import io.tandem.launcher.options.ValueType.Texts;
import io.tandem.launcher.options.ValueType.Whole;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every option of gateway.jar and worker.jar, declared once: from this table come the picocli options
 * ({@link CommandSpecs}), the conf file keys and their checks ({@link OptionValues}) and the README's flag tables
 * ({@link OptionDocs}). The order here is the order in {@code --help} and the README.
 *
 * <p>To add an option: declare it below with {@link #declare}, then read it where it takes effect
 * ({@code values.given(TandemOptions.X)} in {@code GatewayOptions.apply} or {@code WorkerSettings.from}), and
 * regenerate the README's tables (the test that compares them prints the command).
 */
public final class TandemOptions {
    private static final List<OptionDef<?>> ALL = new ArrayList<>();
    private static final Set<Program> GATEWAY = EnumSet.of(Program.GATEWAY);
    private static final Set<Program> WORKER = EnumSet.of(Program.WORKER);
    private static final Set<Program> BOTH = EnumSet.allOf(Program.class);
    private static final Whole PORT = new Whole(0, 65535);
    private static final Whole POSITIVE = new Whole(1, Integer.MAX_VALUE);
    private static final Whole NON_NEGATIVE = new Whole(0, Integer.MAX_VALUE);
    private static final Decimal SECONDS = new Decimal(0, true);

    private TandemOptions() {
    }

    // ---- the conf file itself
    public static final OptionDef<Path> CONF = declare(OptionDef.of("conf", new FilePath(), "FILE", BOTH, null,
            "JSON settings: its keys are the long flag names without the dashes; flags given here override it.")
            .shownAs("conf/{program}.json, if present").onlyAsFlag());

    // ---- where the HTTP server listens
    public static final OptionDef<String> GATEWAY_HOST = declare(OptionDef.of("host", new Text(), "HOST", GATEWAY, "0.0.0.0",
            "Address the HTTP server binds."));
    public static final OptionDef<Integer> GATEWAY_PORT = declare(OptionDef.of("port", PORT, "N", GATEWAY, 8000,
            "HTTP port; 0 picks a free one."));
    public static final OptionDef<Integer> GRPC_PORT = declare(OptionDef.of("grpc-port", PORT, "N", GATEWAY, 8001,
            "gRPC port (KServe v2 inference.GRPCInferenceService, tandem.v1.Generate, reflection), on --host; 0 picks a free one."));
    public static final OptionDef<String> WORKER_HOST = declare(OptionDef.of("host", new Text(), "HOST", WORKER, "127.0.0.1",
            "Address the worker's HTTP server (/health, /metrics, /route) binds."));
    public static final OptionDef<Integer> WORKER_PORT = declare(OptionDef.of("port", PORT, "N", WORKER, 0,
            "Port of the worker's HTTP server; 0 picks a free one."));

    // ---- model and engine
    public static final OptionDef<List<Path>> MODEL = declare(OptionDef.of("model", new FilePaths(), "PATH", BOTH, null,
            "GGUF model file (llama, qwen2, qwen3 archs). The gateway takes several (repeat the flag), a worker one.")
            .shownAs("the bundled model"));
    public static final OptionDef<String> ENGINE = declare(OptionDef.of("engine", new Text(), "NAME", BOTH, "cpu",
            "cpu: real inference; sim: simulated timing over the real tokenizer (for load-testing the serving layers)."));
    public static final OptionDef<Map<String, Object>> ENGINE_OPTION = declare(OptionDef.of("engine-option", new Settings(),
            "KEY=VALUE", BOTH, null,
            "Engine setting, repeatable. cpu: kv-cache-memory (e.g. 1GiB), kv-dtype (f32, f16), block-size, "
                    + "max-num-batched-tokens, step-latency-target-ms (steps holding decodes add only the prompt tokens "
                    + "predicted to fit; 0 = off), max-num-seqs, max-waiting-requests, prefix-caching, kernels (auto, "
                    + "vector, scalar), compute-nice (how the compute threads yield to event loops on the same cores: "
                    + "auto, the default, leaves them unchanged where the event loops run real-time, which preempts them, "
                    + "else idle; idle for Linux SCHED_IDLE, where they run only on cores no other thread wants, so on a "
                    + "host shared with other busy processes give a nice value 0..19 instead; 0 = unchanged); sim: "
                    + "decodeStepNanos, prefillNanosPerToken, eosProbability, ...")
            .shownAs("the engine's").deprecatedKey("engine-options"));
    public static final OptionDef<Integer> THREADS = declare(OptionDef.of("threads", POSITIVE, "N", BOTH, null,
            "Compute threads of each cpu engine.").shownAs("all cores"));

    // ---- the worker itself
    public static final OptionDef<String> ROLE = declare(OptionDef.of("role", new Choice(List.of("prefill", "decode", "both")),
            "ROLE", WORKER, "both",
            "prefill: remote prefills for decode workers; decode: serves requests, sending long prompts to a prefill "
                    + "worker; both: serves requests alone."));
    public static final OptionDef<String> ID = declare(OptionDef.of("id", new Text(), "ID", WORKER, null,
            "Worker id in the registry and on the event bus.").shownAs("ROLE-<8 random hex digits>"));
    public static final OptionDef<Double> STALL_TIMEOUT = declare(OptionDef.of("stall-timeout", SECONDS, "SECONDS", WORKER, 60.0,
            "Cancel a request whose consumer grants no credit for this long."));

    // ---- routing (gateway)
    public static final OptionDef<String> ROUTER = declare(OptionDef.of("router", new Text(), "MODE", GATEWAY, "kv",
            "kv (prefix-cache aware, see docs/ROUTING.md), round-robin, random or least-loaded."));
    public static final OptionDef<Boolean> KV_EVENTS = declare(OptionDef.of("kv-events", new Switch(), null, GATEWAY, true,
            "Index the workers' KV events. --no-kv-events approximates KV routing for workers that publish none: a "
                    + "routed prompt is assumed cached on its worker for 120 s."));
    public static final OptionDef<Double> ROUTER_PREFILL_WEIGHT = declare(OptionDef.of("router-prefill-weight",
            new Decimal(0, false), "W", GATEWAY, 1.0, "KV routing: cost of one uncached prompt block."));
    public static final OptionDef<Double> ROUTER_LOAD_WEIGHT = declare(OptionDef.of("router-load-weight",
            new Decimal(0, false), "W", GATEWAY, 0.35, "KV routing: cost of one block active on the worker."));
    public static final OptionDef<Double> ROUTER_TEMPERATURE = declare(OptionDef.of("router-temperature",
            new Decimal(0, false), "T", GATEWAY, 0.0,
            "KV routing: softmax temperature over the costs; 0 picks the cheapest worker."));

    // ---- SLOs (gateway)
    public static final OptionDef<String> ADMISSION = declare(OptionDef.of("admission", new Choice(List.of("none", "slo")),
            "MODE", GATEWAY, "none", "slo: refuse a request with 429 slo_unattainable when no worker is predicted to "
                    + "meet its TTFT SLO (see docs/SLO.md); none: admit every request the workers can take."));
    public static final OptionDef<Double> SLO_TTFT_MS = declare(OptionDef.of("slo-ttft-ms", new Decimal(0, false), "MS",
            GATEWAY, 0.0, "Default time-to-first-token SLO of requests that carry none (header x-tandem-slo-ttft-ms, "
                    + "body nvext.slo_ttft_ms); 0 = none."));
    public static final OptionDef<Double> SLO_TPOT_MS = declare(OptionDef.of("slo-tpot-ms", new Decimal(0, false), "MS",
            GATEWAY, 0.0, "Default per-output-token SLO (mean time between tokens after the first; header "
                    + "x-tandem-slo-tpot-ms, body nvext.slo_tpot_ms); 0 = none."));

    // ---- the HTTP API (gateway)
    public static final OptionDef<List<String>> API_KEY = declare(OptionDef.of("api-key", new Texts(), "KEY", GATEWAY, null,
            "Require 'Authorization: Bearer KEY' on /v1/* and 'authorization: Bearer KEY' metadata on gRPC calls but health and reflection (repeatable).").shownAs("none").deprecatedKey("api_keys"));
    public static final OptionDef<Long> MAX_BODY_BYTES = declare(OptionDef.of("max-body-bytes", new Count(1), "BYTES", GATEWAY,
            4L << 20, "Larger request bodies get 413."));
    public static final OptionDef<Long> GRPC_MAX_MESSAGE_BYTES = declare(OptionDef.of("grpc-max-message-bytes", new Count(1),
            "BYTES", GATEWAY, 4L << 20, "Larger gRPC request messages get RESOURCE_EXHAUSTED."));
    public static final OptionDef<Double> REQUEST_TIMEOUT_SECONDS = declare(OptionDef.of("request-timeout-seconds", SECONDS,
            "SECONDS", GATEWAY, 600.0, "Upper bound on one request's life."));
    public static final OptionDef<Integer> INITIAL_CREDITS = declare(OptionDef.of("initial-credits", POSITIVE, "N", GATEWAY, 32,
            "Tokens a worker may send a stream before the gateway grants more."));
    public static final OptionDef<Long> ACCEPT_TIMEOUT_MS = declare(OptionDef.of("accept-timeout-ms", new Count(1), "MS", GATEWAY,
            10_000L, "How long a worker may take to accept a request before the gateway tries another."));
    public static final OptionDef<Long> STREAM_IDLE_TIMEOUT_MS = declare(OptionDef.of("stream-idle-timeout-ms", new Count(1), "MS",
            GATEWAY, 20_000L, "A stream whose worker sends nothing, not even the keep-alives it sends every quarter of "
                    + "this, has stalled: it migrates, or fails with 504 when it cannot. Waiting in a queue is not a stall."));
    public static final OptionDef<Integer> MIGRATION_LIMIT = declare(OptionDef.of("migration-limit", new Whole(0, 100), "N",
            GATEWAY, 3, "How often a request may move to another worker when its worker dies, stalls or drains; it "
                    + "continues the same token stream there. 0 disables migration."));
    public static final OptionDef<Double> MAX_QUEUE_WAIT = declare(OptionDef.of("max-queue-wait", SECONDS, "SECONDS", GATEWAY,
            30.0, "How long a request waits in the gateway's queue while every worker of its model is busy; then 503."));
    public static final OptionDef<Integer> MAX_QUEUE = declare(OptionDef.of("max-queue", NON_NEGATIVE, "N", GATEWAY, 4096,
            "Requests per model the gateway queues while every worker is busy; beyond that, 429 with Retry-After."));
    public static final OptionDef<Integer> RETRY_AFTER_SECONDS = declare(OptionDef.of("retry-after-seconds", NON_NEGATIVE,
            "SECONDS", GATEWAY, 1, "Retry-After of 429 and 503 answers."));
    public static final OptionDef<Integer> SSE_WRITE_QUEUE_BYTES = declare(OptionDef.of("sse-write-queue-bytes", NON_NEGATIVE,
            "BYTES", GATEWAY, 0, "High-water mark of a streaming response's write queue (SSE and gRPC streams); 0 keeps Vert.x's default."));
    public static final OptionDef<Integer> SEND_BUFFER_BYTES = declare(OptionDef.of("send-buffer-bytes", NON_NEGATIVE, "BYTES",
            GATEWAY, 0, "SO_SNDBUF of client connections; 0 keeps the OS default."));

    // ---- disaggregated prefill
    public static final OptionDef<Integer> PREFILL_WORKERS = declare(OptionDef.of("prefill-workers", new Whole(0, 16), "N",
            GATEWAY, null, "Embedded mode: prefill workers beside the decode worker; 0 = aggregated (one worker prefills "
                    + "and decodes, decode first within step-latency-target-ms).")
            .shownAs("0 below 8 cores, else 1"));
    public static final OptionDef<Integer> EVENT_LOOPS = declare(OptionDef.of("event-loops", new Whole(0, 1024), "N",
            GATEWAY, null, "Embedded mode: Vert.x event loops for HTTP and the workers' streams; 0 = Vert.x's default "
                    + "(2 per core). Below 8 cores one: the compute threads occupy the cores, and on one event loop a "
                    + "request passes gateway, worker and back without waking another thread.")
            .shownAs("1 below 8 cores, else 0"));
    public static final OptionDef<String> EVENT_LOOP_PRIORITY = declare(OptionDef.of("event-loop-priority",
            new Choice(List.of("realtime", "normal")), "MODE", BOTH, "realtime", "realtime: the Vert.x event loops "
                    + "run in Linux's SCHED_FIFO at priority 1 where permitted (root, CAP_SYS_NICE or RLIMIT_RTPRIO >= 1; "
                    + "else normal, with a warning), so that a waking loop takes its core from the compute threads and "
                    + "the JIT at once; normal: the fair scheduler, like every other thread."));
    public static final OptionDef<Integer> MAX_LOCAL_PREFILL_TOKENS = declare(OptionDef.of("max-local-prefill-tokens",
            NON_NEGATIVE, "N", BOTH, 128, "A decode worker prefills remotely only when more than N prompt tokens are "
                    + "uncached."));
    public static final OptionDef<Integer> MAX_PREFILL_QUEUE = declare(OptionDef.of("max-prefill-queue", POSITIVE, "N", BOTH, 8,
            "Remote prefills a prefill worker takes at once; decode workers skip prefill workers this busy."));
    public static final OptionDef<Double> PREFILL_TIMEOUT = declare(OptionDef.of("prefill-timeout", SECONDS, "SECONDS", BOTH,
            30.0, "A decode worker prefills locally when a remote prefill takes longer."));
    public static final OptionDef<String> TRANSFER = declare(OptionDef.of("transfer",
            new Choice(List.of("tcp", "shm", "ucx", "nixl", "auto")), "BACKEND", BOTH, "auto",
            "KV transfer backend: tcp, shm, ucx (needs libucx), nixl (needs NIXL, see --nixl-home) or auto (per peer: "
                    + "shm on the same host, else ucx, else tcp). A ucx or nixl that cannot start stops the process, "
                    + "saying how to get it."));
    public static final OptionDef<Integer> TRANSFER_THREADS = declare(OptionDef.of("transfer-threads", POSITIVE, "N", BOTH, 2,
            "Threads of the transfer agent's worker pool (blocking and native calls)."));
    public static final OptionDef<Path> NIXL_HOME = declare(OptionDef.of("nixl-home", new FilePath(), "DIR", BOTH, null,
            "Where NIXL is installed (its PREFIX: lib/x86_64-linux-gnu with libnixl_capi.so and plugins/, lib with the UCX "
                    + "it was built with); sets NIXL_PLUGIN_DIR when unset. The ucx backend then uses NIXL's UCX too.")
            .shownAs("$TANDEM_NIXL_HOME, else the library path"));
    public static final OptionDef<Integer> TRANSFER_PORT = declare(OptionDef.of("transfer-port", PORT, "N", WORKER, 0,
            "The transfer agent's control port; 0 picks a free one."));
    public static final OptionDef<Boolean> INSECURE_TRANSFER = declare(OptionDef.of("insecure-transfer", new Switch(), null,
            WORKER, false, "Take part in remote prefill without a cluster secret: anyone who reaches the transfer "
                    + "port can then read and write KV memory."));

    // ---- the cluster
    public static final OptionDef<Boolean> CLUSTER = declare(OptionDef.of("cluster", new Switch(), null, BOTH, false,
            "Join the Hazelcast cluster (conf/cluster.xml). A gateway without it runs its own workers in this JVM; a "
                    + "worker needs it.").alias("-cluster"));
    public static final OptionDef<String> CLUSTER_HOST = declare(OptionDef.of("cluster-host", new Text(), "HOST", BOTH, null,
            "Event-bus address.").shownAs("the interface Hazelcast binds").alias("-cluster-host"));
    public static final OptionDef<Integer> CLUSTER_PORT = declare(OptionDef.of("cluster-port", PORT, "N", BOTH, 0,
            "Event-bus port; 0 picks a free one.").alias("-cluster-port"));
    public static final OptionDef<String> CLUSTER_CONFIG = declare(OptionDef.of("cluster-config", new Text(), "FILE", BOTH, null,
            "Hazelcast config file (or classpath:NAME).")
            .shownAs("-Dvertx.hazelcast.config, else conf/cluster.xml, else the bundled one"));
    public static final OptionDef<String> ADVERTISE_HOST = declare(OptionDef.of("advertise-host", new Text(), "HOST", BOTH, null,
            "The address other members reach this one at (event bus, a worker's /route and transfer agent); "
                    + "--host stays the bind address.")
            .shownAs("-cluster-host when given, else the interface Hazelcast binds"));

    // ---- stopping
    public static final OptionDef<Double> DRAIN_TIMEOUT = declare(OptionDef.of("drain-timeout", new Decimal(0, false), "SECONDS", BOTH, 30.0,
            "On SIGTERM: take no new work and let running streams finish for up to this long; then a worker hands the "
                    + "rest over (the gateway migrates them) and a gateway cancels them. See docs/OPERATIONS.md."));

    // ---- security of the data plane
    public static final OptionDef<Path> CLUSTER_SECRET_FILE = declare(OptionDef.of("cluster-secret-file", new FilePath(), "FILE",
            BOTH, null, "The cluster secret (at least 16 bytes): every transfer connection and /route proves it knows "
                    + "it. Without this flag the environment variable TANDEM_CLUSTER_SECRET is used.")
            .shownAs("$TANDEM_CLUSTER_SECRET"));
    public static final OptionDef<Path> TLS_CERT = declare(OptionDef.of("tls-cert", new FilePath(), "FILE", BOTH, null,
            "PEM certificate of this member: mutual TLS on the event bus and the transfer control channel (give "
                    + "--tls-cert, --tls-key and --tls-ca together).").shownAs("no TLS"));
    public static final OptionDef<Path> TLS_KEY = declare(OptionDef.of("tls-key", new FilePath(), "FILE", BOTH, null,
            "PEM private key of --tls-cert.").shownAs("no TLS"));
    public static final OptionDef<Path> TLS_CA = declare(OptionDef.of("tls-ca", new FilePath(), "FILE", BOTH, null,
            "PEM certificate of the CA that signed every member's certificate.").shownAs("no TLS"));

    // ---- tracing
    public static final OptionDef<String> OTLP_ENDPOINT = declare(OptionDef.of("otlp-endpoint", new Text(), "URL", BOTH, null,
            "Export OpenTelemetry spans over OTLP/gRPC to this collector (e.g. http://collector:4317). Without it the "
                    + "standard OTEL_EXPORTER_OTLP_ENDPOINT is used; with neither, nothing is traced. See docs/OPERATIONS.md.")
            .shownAs("$OTEL_EXPORTER_OTLP_ENDPOINT, else off"));

    private static <T> OptionDef<T> declare(OptionDef<T> def) {
        for (OptionDef<?> other : ALL) {
            for (Program p : def.programs()) {
                if (other.appliesTo(p) && other.name().equals(def.name())) {
                    throw new IllegalStateException(def.flag() + " is declared twice for " + p.jar());
                }
            }
        }
        ALL.add(def);
        return def;
    }

    /** Every option, in declaration order. */
    public static List<OptionDef<?>> all() {
        return Collections.unmodifiableList(ALL);
    }

    /** The options {@code program} takes, in declaration order. */
    public static List<OptionDef<?>> of(Program program) {
        return ALL.stream().filter(d -> d.appliesTo(program)).toList();
    }
}
