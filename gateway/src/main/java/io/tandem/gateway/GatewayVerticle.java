package io.tandem.gateway;

import io.tandem.gateway.dispatch.ContractGate;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.grpc.GrpcApi;
import io.tandem.gateway.http.HttpApi;
import io.tandem.gateway.http.HttpDrain;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.planner.PlannerSettings;
import io.tandem.gateway.planner.PlanningService;
import io.tandem.gateway.preprocess.ServedModels;
import io.tandem.gateway.dispatch.RoutingMetrics;
import io.tandem.gateway.kv.KvIndexSubscription;
import io.tandem.gateway.slo.SloControl;
import io.tandem.gateway.slo.TtftPredictor;
import io.tandem.gateway.router.InFlightLedger;
import io.tandem.gateway.router.PeerInFlight;
import io.tandem.gateway.router.PrefixLookup;
import io.tandem.gateway.router.RouterWarmup;
import io.tandem.gateway.router.SuspectWorkers;
import io.tandem.gateway.router.WorkerRouter;
import io.tandem.registry.kv.ApproxKvIndexer;
import io.tandem.registry.kv.KvIndex;
import io.tandem.registry.WorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The client-facing side of a gateway: router, dispatcher, the HTTP server and the gRPC server on one event loop. */
final class GatewayVerticle extends VerticleBase {
    private static final System.Logger LOG = System.getLogger(GatewayVerticle.class.getName());

    private final ServedModels models;
    private final WorkerRegistry registry;
    private final GatewayOptions options;
    private final GatewayMetrics metrics;
    private final Handler<RoutingContext> scrape;
    private Dispatcher dispatcher;
    /** Approximate KV routing (no events): how long a routed prompt is assumed to stay cached (Dynamo's default too). */
    static final long APPROXIMATE_TTL_MILLIS = 120_000;
    /** With events: how long a routing prediction stands in for events that have not arrived yet. */
    static final long PREDICTION_TTL_MILLIS = 10_000;
    private HttpServer server;
    private GrpcApi grpc;
    private KvIndexSubscription kvIndex;
    private PeerInFlight peers;
    private HttpDrain drain;
    private PlanningService planner;
    private Future<Gateway.DrainReport> drained;


    GatewayVerticle(ServedModels models, WorkerRegistry registry, GatewayOptions options, GatewayMetrics metrics,
                    Handler<RoutingContext> scrape) {
        this.models = models;
        this.registry = registry;
        this.options = options;
        this.metrics = metrics;
        this.scrape = scrape;
    }

    @Override
    public Future<?> start() {
        ApproxKvIndexer approx = new ApproxKvIndexer(new KvIndex(),
                options.kvEvents() ? PREDICTION_TTL_MILLIS : APPROXIMATE_TTL_MILLIS, System::currentTimeMillis);
        WorkerRouter router = new WorkerRouter(options.router(), options.kvCostModel(), new PrefixLookup(new KvIndex(), approx),
                new SuspectWorkers(10_000, System::currentTimeMillis), new InFlightLedger(System::currentTimeMillis));
        dispatcher = new Dispatcher(vertx, registry, router, options.dispatchOptions(),
                RoutingMetrics.micrometer(metrics.registry(), options.router().flag()),
                new ContractGate(registry, models.fingerprints(), metrics.registry()),
                io.tandem.gateway.dispatch.DispatchMetrics.micrometer(metrics.registry()),
                new SloControl(options.admission(), options.sloDefaults(), new TtftPredictor(TtftPredictor.DEFAULT_CHUNK_TOKENS),
                        metrics.slo()));
        kvIndex = new KvIndexSubscription(vertx, registry, router.index(), metrics.registry());
        peers = new PeerInFlight(vertx, router.ledger());
        vertx.setPeriodic(1_000, id -> approx.expire());
        metrics.bindReadyWorkers(registry::liveWorkers);
        registry.onChange(e -> {
            if (e instanceof io.tandem.registry.WorkerEvent.Removed r) approx.removeWorker(r.worker().workerId());
        });
        drain = new HttpDrain(options.retryAfterSeconds());
        planner = new PlanningService(registry, metrics.arrivals(), options.sloDefaults(), PlannerSettings.DEFAULTS);
        planner.bindGauges(metrics.registry());
        vertx.setPeriodic(PlanningService.REFRESH_MILLIS, id -> planner.refresh());
        HttpApi api = new HttpApi(vertx, models, dispatcher, metrics, options.httpSettings(), drain, planner);
        HttpServerOptions serverOptions = new HttpServerOptions().setHost(options.host()).setPort(options.port());
        if (options.sendBufferBytes() > 0) serverOptions.setSendBufferSize(options.sendBufferBytes());
        server = vertx.createHttpServer(serverOptions).requestHandler(api.router(scrape));
        grpc = new GrpcApi(vertx, models, dispatcher, metrics, options.grpcSettings());
        // compiled before the first request: cold, a decision is slow enough to be preempted often (RouterWarmup)
        Future<Void> warm = RouterWarmup.DECISIONS <= 0 ? Future.succeededFuture() : vertx.executeBlocking(() -> {
            long t0 = System.nanoTime();
            RouterWarmup.run(options.router(), options.kvCostModel(), RouterWarmup.DECISIONS);
            LOG.log(System.Logger.Level.DEBUG, "router warm-up: " + RouterWarmup.DECISIONS + " decisions in "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms");
            return null;
        }, false);
        return Future.join(warm, options.kvEvents() ? kvIndex.start() : Future.<Void>succeededFuture())
                .compose(v -> server.listen())
                .compose(v -> grpc.listen(options.host()).recover(e -> Future.failedFuture(new IllegalStateException(
                        "cannot serve gRPC on " + options.host() + ":" + options.grpcPort() + " (--grpc-port): " + e.getMessage(), e))));
    }

    @Override
    public Future<?> stop() {
        dispatcher.close();
        peers.close();
        if (planner != null) planner.close();
        return Future.join(kvIndex.stop(), server.close(), grpc.close()).mapEmpty();
    }

    /**
     * Stops taking completion requests (503 with Retry-After, {@code /ready} 503) and waits up to {@code timeout} for
     * those in flight; then cancels the generations still running. Idempotent. A request that arrives after this
     * call is refused, whichever thread called it.
     */
    Future<Gateway.DrainReport> drain(Duration timeout) {
        Promise<Gateway.DrainReport> result = Promise.promise();
        // refusal starts now, not when the task below runs: the event loop may read a new request first
        drain.refuseNew();
        grpc.refuseNew();
        context.runOnContext(v -> beginDrain(timeout).onComplete(result));
        return result.future();
    }

    private Future<Gateway.DrainReport> beginDrain(Duration timeout) {
        if (drained != null) return drained;
        long started = System.nanoTime();
        int inFlight = drain.inFlight() + grpc.inFlight();
        LOG.log(System.Logger.Level.INFO, "gateway draining: " + inFlight + " requests in flight (" + dispatcher.activeStreams()
                + " streams on workers), timeout " + timeout.toMillis() / 1000.0 + "s");
        Promise<Integer> done = Promise.promise();
        boolean[] timedOut = {false};
        Future.all(drain.begin(), grpc.beginDrain()).onSuccess(v -> {
            if (!timedOut[0]) done.tryComplete(0);
        });
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
            timedOut[0] = true; // ending the responses below empties the drain: they count as cancelled
            for (GenerationStream s : dispatcher.streams()) s.cancel("the gateway is shutting down (drain timeout)");
            done.tryComplete(drain.endAll() + grpc.endAll()); // the clients get an error, not a dropped connection
        });
        drained = done.future().map(cancelled -> {
            vertx.cancelTimer(timer);
            Gateway.DrainReport report = new Gateway.DrainReport(inFlight, Math.max(0, inFlight - cancelled), cancelled,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            LOG.log(System.Logger.Level.INFO, "gateway drain done in " + report.millis() + " ms: " + report.finished()
                    + " finished, " + report.cancelled() + " cancelled");
            return report;
        });
        return drained;
    }

    int port() {
        return server.actualPort();
    }

    int grpcPort() {
        return grpc.port();
    }

    Dispatcher dispatcher() {
        return dispatcher;
    }
}
