package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiKeys;
import io.tandem.gateway.dispatch.Dispatcher;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.ServedModels;
import io.tandem.gateway.session.Generations;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.reflection.ReflectionService;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;

/**
 * The gateway's gRPC API on a port of its own (HTTP/2 cleartext): {@code inference.GRPCInferenceService} (KServe v2,
 * {@link KServeService}), {@code tandem.v1.Generate} ({@link TokenService}) and server reflection
 * ({@code grpc.reflection.v1.ServerReflection}, so grpcurl and friends can list and describe the services). Every
 * other method answers UNIMPLEMENTED. Create and start it on the gateway verticle's event loop: its calls run there,
 * beside the dispatcher they use.
 */
public final class GrpcApi {

    private final Vertx vertx;
    private final GrpcSettings settings;
    private final GrpcCalls calls;
    private final GrpcServer grpc;
    private HttpServer server;

    public GrpcApi(Vertx vertx, ServedModels models, Dispatcher dispatcher, GatewayMetrics metrics, GrpcSettings settings) {
        this.vertx = vertx;
        this.settings = settings;
        this.calls = new GrpcCalls(metrics, new ApiKeys(settings.apiKeys()), settings.maxMessageBytes());
        Generations generations = new Generations(vertx, dispatcher);
        this.grpc = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(settings.maxMessageBytes()))
                .addService(new KServeService(vertx, models, generations, calls, settings))
                .addService(new TokenService(vertx, models, generations, calls, settings))
                .addService(ReflectionService.v1())
                .callHandler(calls.unimplemented());
    }

    /** Binds {@code host} and the configured port; the future gives the bound port. */
    public Future<Integer> listen(String host) {
        server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(settings.port())).requestHandler(grpc);
        return server.listen().map(HttpServer::actualPort);
    }

    /** The bound port (the real one when 0 was asked for). */
    public int port() {
        return server.actualPort();
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** Inference calls being served now. */
    public int inFlight() {
        return calls.inFlight();
    }

    /** Refuses new inference calls (UNAVAILABLE) and not-ready from now on; callable from any thread. */
    public void refuseNew() {
        calls.refuseNew();
    }

    /** Refuses new inference calls (UNAVAILABLE) and not-ready from now on; completes once none is in flight. */
    public Future<Void> beginDrain() {
        return calls.beginDrain();
    }

    /** Ends the inference calls still open with UNAVAILABLE (after their generations were cancelled); returns how many. */
    public int endAll() {
        return calls.endAll();
    }
}
