package io.tandem.worker;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.registry.HazelcastWorkerRegistry;
import io.tandem.registry.cluster.ClusterOptions;
import io.tandem.registry.cluster.TandemCluster;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** {@code java -jar worker.jar -cluster [flags]}: one worker joining a Tandem cluster. */
@Command(name = "worker.jar", mixinStandardHelpOptions = true, version = "Tandem worker 0.1.0",
        subcommands = {io.tandem.worker.bench.BenchCommand.class, io.tandem.worker.bench.BenchModelCommand.class,
                io.tandem.worker.bench.DisaggBenchCommand.class},
        description = {"Runs one Tandem worker: it joins the Hazelcast cluster, registers, and serves generate requests "
                + "from gateways over the event bus.",
                "A JSON config file (--conf, default conf/worker.json if present) may set any long flag by name; "
                + "flags given here override it."},
        sortOptions = false)
public final class WorkerMain implements Callable<Integer> {
    static final Path DEFAULT_CONF = Path.of("conf", "worker.json");

    @Option(names = "--role", paramLabel = "ROLE", description = "prefill, decode or both (default: both)")
    String role;
    @Option(names = "--model", paramLabel = "PATH", description = "GGUF model file (default: the bundled fortune model)")
    String model;
    @Option(names = "--engine", paramLabel = "NAME", description = "inference engine: cpu (real inference) or sim (timing model, no weights) (default: cpu)")
    String engine;
    @Option(names = "--engine-option", paramLabel = "KEY=VALUE", description = "engine setting, repeatable (cpu: threads, kv-cache-memory, kv-dtype, max-num-batched-tokens, max-num-seqs, prefix-caching, ...; sim: decodeStepNanos, eosProbability, ...)")
    Map<String, String> engineOptions;
    @Option(names = "--threads", paramLabel = "N", description = "compute threads of the cpu engine (default: all cores)")
    Integer threads;
    @Option(names = "--port", paramLabel = "N", description = "HTTP port of /health and /metrics; 0 picks a free port (default: 0)")
    Integer port;
    @Option(names = "--host", paramLabel = "HOST", description = "host the HTTP server binds and advertises (default: 127.0.0.1)")
    String host;
    @Option(names = "--id", paramLabel = "ID", description = "worker id (default: <role>-<random>)")
    String id;
    @Option(names = "--stall-timeout", paramLabel = "SECONDS", description = "cancel a request whose consumer grants no credit this long (default: 60)")
    Double stallTimeout;
    @Option(names = "--transfer", paramLabel = "BACKEND", description = "KV transfer backend: tcp, shm, ucx, nixl or auto (per peer: shm on the same host, else ucx, else tcp) (default: auto)")
    String transfer;
    @Option(names = "--max-local-prefill-tokens", paramLabel = "N", description = "decode role: prefill remotely when more than N prompt tokens are uncached (default: 128)")
    Integer maxLocalPrefillTokens;
    @Option(names = "--max-prefill-queue", paramLabel = "N", description = "prefill role: remote prefills taken at once; decode role: skip prefill workers this busy (default: 8)")
    Integer maxPrefillQueue;
    @Option(names = "--prefill-timeout", paramLabel = "SECONDS", description = "decode role: prefill locally when a remote prefill takes longer (default: 30)")
    Double prefillTimeout;
    @Option(names = "--transfer-threads", paramLabel = "N", description = "threads of the transfer agent's worker pool (default: 2)")
    Integer transferThreads;
    @Option(names = "-cluster", description = "join the Tandem cluster (required: a lone worker serves nobody)")
    Boolean cluster;
    @Option(names = "-cluster-host", paramLabel = "HOST", description = "event-bus host (default: Hazelcast's interface)")
    String clusterHost;
    @Option(names = "-cluster-port", paramLabel = "N", description = "event-bus port (default: a free port)")
    Integer clusterPort;
    @Option(names = "--conf", paramLabel = "FILE", description = "JSON config file (default: conf/worker.json if present)")
    Path conf;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The node once started (for the shutdown hook and tests). */
    volatile Running running;

    record Running(Vertx vertx, HazelcastWorkerRegistry registry, DeployedWorker worker) {}

    public static void main(String[] args) {
        WorkerMain main = new WorkerMain();
        int code = new CommandLine(main).execute(args);
        if (main.running == null) System.exit(code); // help, version, or an error; a started worker keeps running
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        WorkerSettings settings;
        try {
            settings = WorkerSettings.resolve(flags(), readConf());
        } catch (IllegalArgumentException | IOException e) {
            err.println("worker: " + e.getMessage());
            return 2;
        }
        if (!settings.cluster()) {
            err.println("worker: a worker on its own serves nobody — add -cluster to join a Tandem cluster "
                    + "(gateways find workers through it). For everything in one JVM, run the gateway without -cluster: "
                    + "its embedded mode starts its own workers.");
            return 2;
        }
        try {
            running = start(settings);
        } catch (Exception e) {
            err.println("worker: could not start: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(this::shutdown));
        spec.commandLine().getOut().println("worker " + running.worker().workerId() + " (" + settings.options().role()
                + ") serving " + running.worker().record().model() + "; health and metrics on http://"
                + settings.options().host() + ":" + running.worker().httpPort());
        return 0;
    }

    private Map<String, Object> flags() {
        Map<String, Object> f = new HashMap<>();
        f.put("role", role);
        f.put("model", model);
        f.put("engine", engine);
        f.put("engine-option", engineOptions == null ? null : new HashMap<String, Object>(engineOptions));
        f.put("threads", threads);
        f.put("port", port);
        f.put("host", host);
        f.put("id", id);
        f.put("stall-timeout", stallTimeout);
        f.put("transfer", transfer);
        f.put("max-local-prefill-tokens", maxLocalPrefillTokens);
        f.put("max-prefill-queue", maxPrefillQueue);
        f.put("prefill-timeout", prefillTimeout);
        f.put("transfer-threads", transferThreads);
        f.put("cluster", cluster);
        f.put("cluster-host", clusterHost);
        f.put("cluster-port", clusterPort);
        return f;
    }

    private JsonObject readConf() throws IOException {
        Path file = conf != null ? conf : (Files.isRegularFile(DEFAULT_CONF) ? DEFAULT_CONF : null);
        if (file == null) return new JsonObject();
        try {
            return new JsonObject(Files.readString(file));
        } catch (IOException e) {
            throw new IOException("cannot read config file " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("config file " + file + " is not a JSON object: " + e.getMessage());
        }
    }

    /** Joins the cluster with Prometheus metrics, starts the registry and deploys the worker. */
    static Running start(WorkerSettings s) throws Exception {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ClusterOptions cluster = ClusterOptions.defaults().withClusterHost(s.clusterHost()).withClusterPort(s.clusterPort());
        VertxOptions vertxOptions = TandemCluster.vertxOptions(cluster).setMetricsOptions(new MicrometerMetricsOptions()
                .setEnabled(true).setJvmMetricsEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
        Vertx vertx = Vertx.builder().with(vertxOptions).withClusterManager(TandemCluster.clusterManager(cluster))
                .withMetrics(new MicrometerMetricsFactory(prometheus)).buildClustered().await();
        try {
            HazelcastWorkerRegistry registry = TandemCluster.registry(vertx, cluster.registry()).await();
            DeployedWorker worker = WorkerDeployment.deploy(vertx, registry, s.options(), prometheus).await();
            return new Running(vertx, registry, worker);
        } catch (Exception e) {
            vertx.close().await(10, TimeUnit.SECONDS);
            throw e;
        }
    }

    void shutdown() {
        Running r = running;
        if (r == null) return;
        try {
            r.worker().undeploy(r.vertx()).await(15, TimeUnit.SECONDS);
            r.registry().close().await(5, TimeUnit.SECONDS);
            r.vertx().close().await(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("worker: unclean shutdown: " + e);
        }
    }
}
