package io.tandem.worker;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.launcher.JvmRelaunch;
import io.tandem.launcher.StopSignals;
import io.tandem.launcher.options.CommandSpecs;
import io.tandem.launcher.options.OptionDef;
import io.tandem.launcher.options.OptionValues;
import io.tandem.launcher.options.Program;
import io.tandem.launcher.options.TandemOptions;
import io.tandem.registry.HazelcastWorkerRegistry;
import io.tandem.registry.cluster.AdvertisedHost;
import io.tandem.registry.cluster.ClusterOptions;
import io.tandem.registry.cluster.NetworkTransport;
import io.tandem.registry.cluster.TandemCluster;
import io.tandem.worker.tracing.Tracing;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar worker.jar -cluster [flags]}: one worker joining a Tandem cluster. Its options are
 * {@link TandemOptions}' worker options, from {@code --conf FILE} (default {@code conf/worker.json} when present) with
 * the flags on top; {@code bench}, {@code bench-model} and {@code disagg-bench} are subcommands.
 */
public final class WorkerMain implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger(WorkerMain.class.getName());

    private final CommandLine commandLine;

    /** The node once started (for the shutdown hook and tests). */
    volatile Running running;

    record Running(Vertx vertx, HazelcastWorkerRegistry registry, DeployedWorker worker, Tracing tracing) {}

    public WorkerMain() {
        commandLine = new CommandLine(CommandSpecs.create(Program.WORKER, this, version(),
                "Runs one Tandem worker: it joins the Hazelcast cluster, registers, and serves generate requests "
                        + "from gateways over the event bus.",
                "A JSON config file (--conf, default conf/worker.json if present) may set any long flag by name; "
                        + "flags given here override it."));
        commandLine.addSubcommand(new io.tandem.worker.bench.BenchCommand());
        commandLine.addSubcommand(new io.tandem.worker.bench.BenchModelCommand());
        commandLine.addSubcommand(new io.tandem.worker.bench.DisaggBenchCommand());
    }

    public static void main(String[] args) {
        JvmRelaunch.relaunchIfNeeded(Program.WORKER.jar(), WorkerMain.class, args); // before anything loads the engine
        WorkerMain main = new WorkerMain();
        int code = main.commandLine().execute(args);
        if (main.running == null) System.exit(code); // help, version, a subcommand or an error; a started worker keeps running
    }

    /** The command line of this worker (parse or execute arguments with it). */
    public CommandLine commandLine() {
        return commandLine;
    }

    private static String version() {
        String v = WorkerMain.class.getPackage().getImplementationVersion();
        return "Tandem worker " + (v == null ? "(development build)" : v);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = commandLine.getErr();
        WorkerSettings settings;
        try {
            settings = settings();
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
        Duration drain = settings.drainTimeout();
        StopSignals.install(Program.WORKER.jar(), stopBound(settings), () -> stop(drain));
        commandLine.getOut().println("worker " + running.worker().workerId() + " (" + settings.options().role()
                + ") serving " + running.worker().record().model() + "; health and metrics on http://"
                + running.worker().record().host() + ":" + running.worker().httpPort());
        commandLine.getOut().flush();
        return 0;
    }

    /** The parsed command line's settings: the conf file's, with the flags on top (after {@code commandLine().parseArgs}). */
    public WorkerSettings settings() throws IOException {
        Map<OptionDef<?>, Object> flags = CommandSpecs.given(commandLine.getParseResult(), Program.WORKER);
        Path conf = (Path) flags.get(TandemOptions.CONF);
        Map<OptionDef<?>, Object> file = ConfFile.read(Program.WORKER, conf,
                warning -> LOG.log(System.Logger.Level.WARNING, warning));
        return WorkerSettings.from(OptionValues.merge(Program.WORKER, file, flags), System.getenv());
    }

    /**
     * Joins the cluster with Prometheus metrics, resolves the address to publish (never a wildcard, see
     * {@link AdvertisedHost}), starts the registry and deploys the worker.
     */
    static Running start(WorkerSettings s) throws Exception {
        AdvertisedHost.resolve(s.advertiseHost(), s.clusterHost(), null); // a wildcard fails before joining
        Tracing tracing = Tracing.fromSettings(s.otlpEndpoint(), Map.of()); // a malformed URL fails before joining
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ClusterOptions cluster = ClusterOptions.defaults().withClusterHost(s.clusterHost()).withClusterPort(s.clusterPort())
                .withConfigLocation(s.clusterConfig()).withPublicHost(s.advertiseHost()).withTls(s.security().tls());
        VertxOptions vertxOptions = TandemCluster.vertxOptions(cluster).setMetricsOptions(new MicrometerMetricsOptions()
                .setEnabled(true).setJvmMetricsEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
        Vertx vertx = NetworkTransport.builder(vertxOptions, s.eventLoops()).withClusterManager(TandemCluster.clusterManager(cluster))
                .withMetrics(new MicrometerMetricsFactory(prometheus)).buildClustered().await();
        tracing.install(vertx);
        if (tracing.enabled()) LOG.log(System.Logger.Level.INFO, "worker spans: " + tracing);
        LOG.log(System.Logger.Level.INFO, "network I/O: " + NetworkTransport.describe(vertx));
        try {
            AdvertisedHost.Choice advertised = TandemCluster.advertisedHost(vertx, s.advertiseHost(), s.clusterHost());
            LOG.log(System.Logger.Level.INFO, "this worker is reached at " + advertised.host() + " (from "
                    + advertised.source().flag + "); it binds " + s.options().host());
            HazelcastWorkerRegistry registry = TandemCluster.registry(vertx, cluster.registry()).await();
            DeployedWorker worker = WorkerDeployment.deploy(vertx, registry,
                    s.options().withAdvertiseHost(advertised.host()), prometheus).await();
            return new Running(vertx, registry, worker, tracing);
        } catch (Exception e) {
            vertx.close().await(10, TimeUnit.SECONDS);
            tracing.close();
            throw e;
        }
    }

    /** Undeploying, closing the registry and leaving the cluster may take this long together. */
    private static final Duration TEARDOWN = Duration.ofSeconds(35);

    /** How long a stop may take before the process halts: the drain, the held prefills' own timeout, the teardown. */
    public static Duration stopBound(WorkerSettings s) {
        return s.drainTimeout().plusMillis(s.options().disaggregation().prefillTimeoutMillis()).plus(TEARDOWN);
    }

    /**
     * The stop on SIGTERM: drain (no new work, running streams finish within {@code drainTimeout}, the rest are handed
     * over), then deregister, free the KV cache (engine close), leave the cluster. Returns the exit code: 0 when every
     * step finished.
     */
    int stop(Duration drainTimeout) {
        Running r = running;
        if (r == null) return 0;
        String id = r.worker().workerId();
        int code = 0;
        try {
            r.worker().drain(drainTimeout).await(drainTimeout.toMillis() + r.worker().verticle().prefillTimeoutMillis() + 5_000,
                    TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "worker " + id + ": drain did not complete (" + e + "); stopping anyway");
            code = 1;
        }
        try {
            LOG.log(System.Logger.Level.INFO, "worker " + id + ": deregistering, freeing the KV cache, leaving the cluster");
            r.worker().undeploy(r.vertx()).await(15, TimeUnit.SECONDS);
            r.registry().close().await(5, TimeUnit.SECONDS);
            r.vertx().close().await(15, TimeUnit.SECONDS);
            r.tracing().close(); // sends the spans still batched
            LOG.log(System.Logger.Level.INFO, "worker " + id + " stopped");
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "worker " + id + ": unclean shutdown: " + e);
            code = 1;
        }
        return code;
    }
}
