package io.tandem.gateway;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.embedded.EmbeddedWorkers;
import io.tandem.worker.tracing.Tracing;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.GgufServedModel;
import io.tandem.gateway.preprocess.ServedModels;
import io.tandem.model.BundledModel;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.registry.WorkerRegistry;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.registry.cluster.AdvertisedHost;
import io.tandem.registry.cluster.ClusterNode;
import io.tandem.registry.cluster.ClusterOptions;
import io.tandem.registry.cluster.NetworkTransport;
import io.tandem.registry.cluster.TandemCluster;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.http.PrometheusEndpoint;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A running gateway, and how to start one programmatically:
 * <pre>{@code
 * Gateway gw = Gateway.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0)).await(); // embedded
 * int port = gw.port();
 * ...
 * gw.stop().await();
 * }</pre>
 * {@link #start} is embedded (one prefill + one decode worker per model in this JVM) unless the
 * options say cluster; {@link #attach} serves HTTP on a Vert.x and registry the caller owns.
 */
public final class Gateway {

    private static final System.Logger log = System.getLogger(Gateway.class.getName());

    private final Vertx vertx;
    private final WorkerRegistry registry;
    private final boolean ownsVertx;
    private final ClusterNode clusterNode;
    private final List<GgufServedModel> models = new ArrayList<>();
    private final List<DeployedWorker> workers = new ArrayList<>();
    private GatewayVerticle verticle;
    private String verticleId;
    private MeterRegistry meters;
    /** Installed in {@link #vertx} for the gateway and its embedded workers; closed on stop when built here. */
    private Tracing tracing = Tracing.OFF;
    private boolean ownsTracing;

    private Gateway(Vertx vertx, WorkerRegistry registry, boolean ownsVertx, ClusterNode clusterNode) {
        this.vertx = vertx;
        this.registry = registry;
        this.ownsVertx = ownsVertx;
        this.clusterNode = clusterNode;
    }

    /** Embedded or clustered, as {@link GatewayOptions#cluster()} says. */
    public static Future<Gateway> start(GatewayOptions options) {
        return options.cluster() ? startClustered(options) : startEmbedded(options);
    }

    /** One non-clustered Vert.x, a local registry, the embedded workers, then HTTP. */
    public static Future<Gateway> startEmbedded(GatewayOptions options) {
        String metricsName = "tandem-gateway-" + UUID.randomUUID();
        VertxOptions vertxOptions = NetworkTransport.preferNative(new VertxOptions().setMetricsOptions(metricsOptions(metricsName)));
        if (options.eventLoops() > 0) vertxOptions.setEventLoopPoolSize(options.eventLoops());
        Vertx vertx = NetworkTransport.builder(vertxOptions, options.eventLoopPriority()).build();
        Gateway gw = new Gateway(vertx, new LocalWorkerRegistry(vertx), true, null);
        gw.meters = BackendRegistries.getNow(metricsName);
        List<Path> paths = modelPaths(options);
        return gw.stopOnFailure(gw.useTracing(options).compose(v -> gw.loadModels(paths))
                .compose(v -> EmbeddedWorkers.deploy(vertx, gw.registry, paths, options.engine(), options.engineOptions(),
                        options.prefillWorkers(), options.disaggregation(), embeddedSecurity(options), gw.meters))
                .compose(deployed -> {
                    gw.workers.addAll(deployed);
                    return gw.deployHttp(options, PrometheusEndpoint.of(gw.meters));
                }));
    }

    /** The embedded workers' security: the configured secret, else a random one only this JVM knows. */
    private static NodeSecurity embeddedSecurity(GatewayOptions options) {
        NodeSecurity configured = options.security();
        return configured.secret() != null ? configured : configured.withSecret(ClusterSecret.random());
    }

    /**
     * Joins the Hazelcast cluster; workers are whatever the cluster's registry shows. The event bus publishes
     * {@code --advertise-host} (else {@code -cluster-host}, else Hazelcast's address; never a wildcard).
     */
    public static Future<Gateway> startClustered(GatewayOptions options) {
        String metricsName = "tandem-gateway-" + UUID.randomUUID();
        try {
            AdvertisedHost.resolve(options.advertiseHost(), options.clusterHost(), null); // a wildcard fails before joining
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e);
        }
        ClusterOptions cluster = ClusterOptions.defaults()
                .withVertxOptions(new VertxOptions().setMetricsOptions(metricsOptions(metricsName)))
                .withClusterHost(options.clusterHost())
                .withClusterPort(options.clusterPort())
                .withPublicHost(options.advertiseHost())
                .withTls(options.security().tls())
                .withEventLoops(options.eventLoopPriority());
        if (options.clusterConfig() != null) cluster = cluster.withConfigLocation(options.clusterConfig());
        return TandemCluster.start(cluster).compose(node -> {
            Gateway gw = new Gateway(node.vertx(), node.registry(), true, node);
            try {
                AdvertisedHost.Choice advertised = TandemCluster.advertisedHost(node.vertx(), options.advertiseHost(),
                        options.clusterHost());
                log.log(System.Logger.Level.INFO, "this gateway is reached at {0} on the event bus (from {1})",
                        advertised.host(), advertised.source().flag);
            } catch (IllegalArgumentException e) {
                return gw.stopOnFailure(Future.failedFuture(e));
            }
            MeterRegistry vertxMeters = BackendRegistries.getNow(metricsName);
            // the cluster's Vert.x came up without our Micrometer options: serve our own meters
            gw.meters = vertxMeters != null ? vertxMeters : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            Handler<RoutingContext> scrape = PrometheusEndpoint.of(gw.meters);
            return gw.stopOnFailure(gw.useTracing(options).compose(v -> gw.loadModels(modelPaths(options)))
                    .compose(v -> gw.deployHttp(options, scrape)));
        });
    }

    /**
     * Serves the API on a Vert.x and registry owned by the caller (they are not closed by
     * {@link #stop}). Meters go to the Vert.x default Micrometer registry, else a private one.
     */
    public static Future<Gateway> attach(Vertx vertx, WorkerRegistry registry, GatewayOptions options) {
        ProtocolCodecs.registerAll(vertx.eventBus());
        Gateway gw = new Gateway(vertx, registry, false, null);
        MeterRegistry shared = BackendRegistries.getDefaultNow();
        PrometheusMeterRegistry prometheus = shared instanceof PrometheusMeterRegistry p ? p : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        gw.meters = prometheus;
        return gw.stopOnFailure(gw.useTracing(options).compose(v -> gw.loadModels(modelPaths(options)))
                .compose(v -> gw.deployHttp(options, PrometheusEndpoint.of(prometheus))));
    }

    /** The options' tracing, else one from --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT, installed in the Vert.x. */
    private Future<Void> useTracing(GatewayOptions options) {
        try {
            ownsTracing = options.tracing() == null;
            tracing = ownsTracing ? Tracing.fromSettings(options.otlpEndpoint(), System.getenv()) : options.tracing();
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e);
        }
        tracing.install(vertx);
        if (tracing.enabled()) log.log(System.Logger.Level.INFO, "gateway spans: {0}", tracing);
        return Future.succeededFuture();
    }

    /**
     * A failed start releases what it got and reports the original error. The result is not
     * bound to a Vert.x context: Vert.x may be closed by then.
     */
    private Future<Gateway> stopOnFailure(Future<Gateway> starting) {
        Promise<Gateway> result = Promise.promise();
        starting.onComplete(ar -> {
            if (ar.succeeded()) result.complete(ar.result());
            else stop().onComplete(ignored -> result.fail(ar.cause()));
        });
        return result.future();
    }

    private static List<Path> modelPaths(GatewayOptions options) {
        return options.models().isEmpty() ? List.of(BundledModel.path()) : options.models();
    }

    private static MicrometerMetricsOptions metricsOptions(String registryName) {
        return new MicrometerMetricsOptions()
                .setEnabled(true)
                .setJvmMetricsEnabled(true)
                .setRegistryName(registryName)
                .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
    }

    /** Tokenizers and templates only: the gateway never reads weights. */
    private Future<Void> loadModels(List<Path> paths) {
        return vertx.executeBlocking(() -> {
            for (Path p : paths) {
                try {
                    models.add(GgufServedModel.open(p));
                } catch (IOException e) {
                    throw new IOException("cannot load model " + p + ": " + e.getMessage(), e);
                }
            }
            return null;
        });
    }

    private Future<Gateway> deployHttp(GatewayOptions options, Handler<RoutingContext> scrape) {
        verticle = new GatewayVerticle(new ServedModels(models), registry, options, new GatewayMetrics(meters), scrape);
        return vertx.deployVerticle(verticle).map(id -> {
            verticleId = id;
            log.log(System.Logger.Level.INFO, "Tandem gateway listening on {0}, gRPC on {1}:{2,number,#} ({3} mode, models {4}, router {5})",
                    baseUrl(options.host()), shownHost(options.host()), grpcPort(),
                    clusterNode != null ? "cluster" : ownsVertx ? "embedded" : "attached",
                    models.stream().map(GgufServedModel::name).toList(), options.router());
            return this;
        });
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return verticle.port();
    }

    /** {@code http://127.0.0.1:<port>} — the loopback URL, whatever host was bound. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** The bound gRPC port (the real one when 0 was asked for). */
    public int grpcPort() {
        return verticle.grpcPort();
    }

    private String baseUrl(String host) {
        return "http://" + shownHost(host) + ":" + port();
    }

    private static String shownHost(String host) {
        return host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    }

    public Vertx vertx() {
        return vertx;
    }

    public WorkerRegistry registry() {
        return registry;
    }

    /** The embedded workers (empty unless embedded); tests read their engines' activeRequests(). */
    public List<DeployedWorker> workers() {
        return List.copyOf(workers);
    }

    public Dispatcher dispatcher() {
        return verticle.dispatcher();
    }

    public MeterRegistry meters() {
        return meters;
    }

    /**
     * What a gateway's drain did.
     *
     * @param inFlight  completion requests in flight when it began
     * @param finished  of those, how many ended by themselves before the timeout
     * @param cancelled how many were still running at the timeout (their generations were cancelled)
     */
    public record DrainReport(int inFlight, int finished, int cancelled, long millis) {}

    /**
     * The graceful part of a stop (SIGTERM), before {@link #stop}: new completion requests get 503 with
     * {@code Retry-After} and {@code Connection: close}, {@code /ready} answers 503, and the requests in flight get up
     * to {@code timeout} to finish; those still running then are cancelled. Embedded workers drain after the gateway
     * (by then they hold nothing but what is being cancelled). Idempotent.
     */
    public Future<DrainReport> drain(java.time.Duration timeout) {
        if (verticle == null) return Future.succeededFuture(new DrainReport(0, 0, 0, 0));
        return verticle.drain(timeout).compose(report -> {
            List<Future<?>> local = new ArrayList<>();
            for (DeployedWorker w : workers) local.add(w.drain(timeout).recover(e -> Future.succeededFuture()));
            return Future.join(local).map(report);
        });
    }

    /** Cancels in-flight generations, stops HTTP, the embedded workers, and what this gateway created. */
    public Future<Void> stop() {
        Future<Void> http = verticleId == null ? Future.succeededFuture()
                : vertx.undeploy(verticleId).recover(e -> Future.succeededFuture());
        Future<Void> local = http.compose(v -> EmbeddedWorkers.undeploy(vertx, workers));
        // Closing Vert.x from one of its own event loops would leave the close future unanswered
        // (its listeners are dispatched on the loop being shut down): close from a plain thread.
        Promise<Void> stopped = Promise.promise();
        local.onComplete(ar -> Thread.ofPlatform().name("tandem-gateway-stop").start(() -> {
            if (ownsVertx) {
                try {
                    registry.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    log.log(System.Logger.Level.WARNING, "closing the worker registry failed", e);
                }
            }
            Future<Void> closing = ownsVertx ? vertx.close() : Future.succeededFuture();
            closing.onComplete(done -> {
                if (ownsTracing) tracing.close(); // sends the spans still batched
                models.forEach(GgufServedModel::close);
                models.clear();
                stopped.handle(done);
            });
        }));
        return stopped.future();
    }
}
