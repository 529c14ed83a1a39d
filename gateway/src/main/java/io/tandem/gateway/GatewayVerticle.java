package io.tandem.gateway;

import io.tandem.gateway.dispatch.ContractGate;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.http.HttpApi;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.ServedModels;
import io.tandem.gateway.dispatch.RoutingMetrics;
import io.tandem.gateway.kv.KvIndexSubscription;
import io.tandem.gateway.router.InFlightLedger;
import io.tandem.gateway.router.PeerInFlight;
import io.tandem.gateway.router.PrefixLookup;
import io.tandem.gateway.router.SuspectWorkers;
import io.tandem.gateway.router.WorkerRouter;
import io.tandem.registry.kv.ApproxKvIndexer;
import io.tandem.registry.kv.KvIndex;
import io.tandem.registry.WorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.RoutingContext;

/** The HTTP side of a gateway: router, dispatcher and server on one event loop. */
final class GatewayVerticle extends VerticleBase {

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
    private KvIndexSubscription kvIndex;
    private PeerInFlight peers;

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
                io.tandem.gateway.dispatch.DispatchMetrics.micrometer(metrics.registry()));
        kvIndex = new KvIndexSubscription(vertx, registry, router.index(), metrics.registry());
        peers = new PeerInFlight(vertx, router.ledger());
        vertx.setPeriodic(1_000, id -> approx.expire());
        registry.onChange(e -> {
            if (e instanceof io.tandem.registry.WorkerEvent.Removed r) approx.removeWorker(r.worker().workerId());
        });
        HttpApi api = new HttpApi(vertx, models, dispatcher, metrics, options.httpSettings());
        HttpServerOptions serverOptions = new HttpServerOptions().setHost(options.host()).setPort(options.port());
        if (options.sendBufferBytes() > 0) serverOptions.setSendBufferSize(options.sendBufferBytes());
        server = vertx.createHttpServer(serverOptions).requestHandler(api.router(scrape));
        return (options.kvEvents() ? kvIndex.start() : Future.<Void>succeededFuture()).compose(v -> server.listen());
    }

    @Override
    public Future<?> stop() {
        dispatcher.close();
        peers.close();
        return Future.join(kvIndex.stop(), server.close()).mapEmpty();
    }

    int port() {
        return server.actualPort();
    }

    Dispatcher dispatcher() {
        return dispatcher;
    }
}
