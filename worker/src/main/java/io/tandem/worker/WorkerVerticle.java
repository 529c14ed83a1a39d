package io.tandem.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.tandem.engine.Engine;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.WorkerRegistry;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.auth.NodeSecurity;
import io.tandem.registry.cluster.AdvertisedHost;
import io.tandem.transfer.AgentIdentity;
import io.tandem.worker.disagg.BootstrapAuth;
import io.tandem.worker.disagg.BootstrapEndpoint;
import io.tandem.worker.disagg.PrefillFaults;
import io.tandem.engine.remote.DisaggregatedEngine;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferAgents;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.nativelib.NixlHome;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.tandem.worker.disagg.KvBootstrap;
import io.tandem.worker.disagg.PeerDirectory;
import io.tandem.worker.disagg.PrefillService;
import io.tandem.worker.disagg.RegisteredKvMemory;
import io.tandem.worker.disagg.RemotePrefillClient;
import io.tandem.worker.disagg.TransferMetrics;
import io.tandem.worker.engine.EngineFactory;
import io.tandem.worker.kv.KvEventPublisher;
import io.tandem.worker.engine.LoadedEngine;
import io.tandem.worker.http.WorkerHttpServer;
import io.tandem.worker.http.WorkerMetrics;
import io.tandem.worker.stream.RequestStream;
import io.tandem.worker.tracing.GenerateTrace;
import io.tandem.worker.tracing.ServiceTracer;
import io.tandem.worker.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A worker on the event bus wrapping one engine. It takes {@link GenerateRequest}s at
 * {@link Addresses#generate}, replies accept or fails the reply with an {@link ErrorCode} code,
 * streams tokens to each request's stream address under credit flow control
 * ({@link RequestStream}), takes credits and cancels at {@link Addresses#control}, registers in
 * the {@link WorkerRegistry} and reports its load there. Undeploying stops intake, ends every
 * in-flight stream with an UNAVAILABLE failure, deregisters and closes the engine.
 * <p>
 * {@link #drain} comes first on a graceful stop (SIGTERM): the worker reports itself draining (routers skip it),
 * refuses new generate requests with {@link ErrorCode#DRAINING} (the gateway retries another worker) and new remote
 * prefills, lets its streams and held prefills finish, and at the timeout hands the remaining streams over: each ends
 * with a DRAINING failure, which the gateway turns into a migration, and is cancelled in the engine.
 * <p>
 * Disaggregation: the engine's KV arenas are registered with the worker's transfer agent; every worker answers
 * with its transfer bootstrap ({@code GET /route} and {@link Addresses#bootstrap}). A prefill-role worker takes no
 * generate requests but remote prefills ({@link PrefillService}); a decode or both worker sends long prompts to a
 * prefill worker ({@link RemotePrefillClient}) and prefills locally when that fails.
 */
public final class WorkerVerticle extends VerticleBase {
    private static final System.Logger LOG = System.getLogger(WorkerVerticle.class.getName());
    /** How often the prefix-cache snapshot in the registry is brought up to date (when it changed). */
    static final long KV_SNAPSHOT_MILLIS = 1_000;

    private final WorkerOptions options;
    private final WorkerRegistry registry;
    private final EngineFactory engines;
    private final MeterRegistry meters;
    private final String workerId;
    /** Random per start of this worker: told apart from an earlier run under the same id. */
    private final long epoch = WorkerRecord.newEpoch();
    private final Map<String, RequestStream> streams = new HashMap<>();
    /** How often streams are checked for a due keep-alive. */
    private static final long KEEPALIVE_CHECK_MILLIS = 100;
    private long keepaliveTimer = -1;
    private final PrefillFaults faults;
    private final TransferMetrics transferMetrics;

    private LoadedEngine loaded;
    private WorkerMetrics metrics;
    private MessageConsumer<Object> generateConsumer;
    private MessageConsumer<Object> controlConsumer;
    private HttpServer http;
    private WorkerRecord record;
    private long loadTimer = -1;
    private KvEventPublisher kvEvents;
    private TransferAgent agent;
    private RegisteredKvMemory kvMemory;
    private KvBootstrap bootstrap;
    private MessageConsumer<Object> bootstrapConsumer;
    private PeerDirectory peers;
    private PrefillService prefillService;
    private RemotePrefillClient prefillClient;
    /** {@link ServiceTracer#OFF} unless tracing is installed in this Vert.x ({@link Tracing#install}). */
    private ServiceTracer tracer = ServiceTracer.OFF;
    private boolean stopping;
    private boolean engineClosed;
    /** Set by {@link #drain}: takes no new work; streams finish or are handed over. */
    private boolean draining;
    private Future<DrainReport> drained;
    private Promise<Void> streamsDone;

    /**
     * What a drain did.
     *
     * @param running    streams running when it began
     * @param finished   of those, how many ended by themselves (finished, cancelled by their client or failed)
     * @param handedOver how many were still running at the timeout and were ended with DRAINING
     */
    public record DrainReport(int running, int finished, int handedOver, long millis) {}

    public WorkerVerticle(WorkerOptions options, WorkerRegistry registry, EngineFactory engines, MeterRegistry meters) {
        this(options, registry, engines, meters, PrefillFaults.NONE);
    }

    /** @param faults what a test injects into the prefill role ({@link PrefillFaults#NONE} in production) */
    public WorkerVerticle(WorkerOptions options, WorkerRegistry registry, EngineFactory engines, MeterRegistry meters,
                          PrefillFaults faults) {
        this.options = options;
        this.registry = registry;
        this.engines = engines;
        this.meters = meters;
        this.faults = faults;
        this.workerId = options.workerId() != null ? options.workerId()
                : options.role().name().toLowerCase(Locale.ROOT) + "-" + UUID.randomUUID().toString().substring(0, 8);
        this.transferMetrics = new TransferMetrics(meters, workerId);
    }

    public String workerId() {
        return workerId;
    }

    /** This start's epoch (known from construction, before the engine or the transfer agent opens). */
    public long epoch() {
        return epoch;
    }

    /** The record as registered (after start). */
    public WorkerRecord record() {
        return record;
    }

    /** The engine (after start); tests and the gateway's embedded mode inspect it. */
    public Engine engine() {
        return loaded.engine();
    }

    /** The transfer backend this worker's agent runs (tcp, shm, ucx, nixl, auto), or null without one. */
    public String transferBackend() {
        return bootstrap == null ? null : bootstrap.backend();
    }

    /** How long a held remote prefill may take (a drain waits for them up to this long). */
    public long prefillTimeoutMillis() {
        return options.disaggregation().prefillTimeoutMillis();
    }

    /** Requests this worker currently holds a stream for (on its context). */
    public int streamCount() {
        return streams.size();
    }

    @Override
    public Future<?> start() {
        ProtocolCodecs.registerAll(vertx.eventBus());
        tracer = Tracing.of(vertx).tracer(Tracing.WORKER_SERVICE);
        if (AdvertisedHost.isWildcard(publishedHost())) {
            return Future.failedFuture(new IllegalArgumentException("worker " + workerId + " binds " + options.host()
                    + " and would publish it to its peers, where it means 'this host': set --advertise-host"));
        }
        long startNanos = System.nanoTime();
        long[] engineNanos = new long[1];
        kvEvents = new KvEventPublisher(vertx, context, workerId, registry.kvSnapshots());
        return openTransferAgent()
                .compose(a -> {
                    agent = a;
                    kvMemory = a == null ? null : new RegisteredKvMemory(a);
                    return vertx.executeBlocking(() -> kvMemory == null ? engines.open(options.withWorkerId(workerId), kvEvents)
                            : engines.open(options.withWorkerId(workerId), kvEvents, kvMemory));
                })
                .compose(engine -> {
                    engineNanos[0] = System.nanoTime() - startNanos;
                    loaded = engine;
                    metrics = new WorkerMetrics(meters, workerId, options.role(), engine.engine(), streams::size);
                    return setUpDisaggregation();
                })
                .compose(v -> {
                    generateConsumer = vertx.eventBus().consumer(Addresses.generate(workerId), this::onGenerate);
                    controlConsumer = vertx.eventBus().consumer(Addresses.control(workerId), this::onControl);
                    // subscriptions must reach the cluster before anyone can find us in the registry
                    return Future.all(generateConsumer.completion(), controlConsumer.completion());
                })
                .compose(v -> options.httpPort() < 0 ? Future.succeededFuture((HttpServer) null)
                        : WorkerHttpServer.start(vertx, options.host(), options.httpPort(), this::health,
                        this::readiness, new BootstrapEndpoint(() -> bootstrap == null ? null : bootstrap.toJson(),
                                new BootstrapAuth(options.security().secret()), transferMetrics::routeRefused), meters))
                .compose(server -> {
                    http = server;
                    record = new WorkerRecord(workerId, options.role(), loaded.modelName(), registry.nodeId(), publishedHost(),
                            server == null ? 0 : server.actualPort(), loaded.maxContext(), WorkerLoad.IDLE, System.currentTimeMillis(),
                            epoch, loaded.contract(), 0);
                    return registry.register(record);
                })
                .onSuccess(v -> {
                    loadTimer = vertx.setPeriodic(options.loadReportMillis(), id -> reportLoad());
                    keepaliveTimer = vertx.setPeriodic(KEEPALIVE_CHECK_MILLIS, id -> keepStreamsAlive());
                    kvEvents.start(KV_SNAPSHOT_MILLIS, loaded.engine()::requestKvSnapshot);
                    LOG.log(System.Logger.Level.INFO, "worker " + workerId + " (" + options.role() + ", engine " + options.engine()
                            + ") serves " + loaded.modelName() + (http == null ? "" : " — http " + publishedHost() + ":" + http.actualPort())
                            + String.format(java.util.Locale.ROOT, "; ready in %.0f ms (engine %.0f ms)",
                            (System.nanoTime() - startNanos) / 1e6, engineNanos[0] / 1e6));
                })
                .recover(e -> shutdown().transform(ignored -> Future.failedFuture(e)));
    }

    /**
     * The transfer agent the KV arenas are registered with; none for engines without a paged cache, and none for a
     * clustered worker without a cluster secret (unless {@code --insecure-transfer}): it serves aggregated.
     */
    private Future<TransferAgent> openTransferAgent() {
        if (!options.engine().equals(io.tandem.worker.engine.EngineNames.CPU)) return Future.succeededFuture(null);
        NodeSecurity security = options.security();
        if (vertx.isClustered() && !security.transferAllowed()) {
            LOG.log(System.Logger.Level.WARNING, "worker " + workerId + " has no cluster secret: it takes no part in remote "
                    + "prefill and serves aggregated only. Give every member the same secret (--cluster-secret-file FILE or "
                    + ClusterSecret.ENV + "), or pass --insecure-transfer to run an unauthenticated KV data plane.");
            return Future.succeededFuture(null);
        }
        if (vertx.isClustered() && security.secret() == null) {
            LOG.log(System.Logger.Level.WARNING, "--insecure-transfer: anyone who reaches " + publishedHost() + " can read and "
                    + "write this worker's KV memory through its transfer port and GET /route");
        }
        DisaggregationOptions d = options.disaggregation();
        try {
            if (d.nixlHome() != null) NixlHome.use(d.nixlHome());
        } catch (IllegalStateException e) {
            return Future.failedFuture(e);
        }
        Future<TransferAgent> opened = TransferAgents.open(vertx, transferConfig(d.transfer()));
        // a backend the user chose (nixl or ucx not installed, say) stops the worker, saying how to get it: never another
        if (!d.transfer().equals("auto")) {
            return opened.recover(e -> Future.failedFuture(new IllegalStateException("--transfer " + d.transfer()
                    + " cannot start: " + e.getMessage(), e)));
        }
        return opened.recover(e -> {
            LOG.log(System.Logger.Level.ERROR, "no KV transfer agent (" + e.getMessage() + "); " + workerId
                    + " serves aggregated only");
            return Future.succeededFuture(null);
        });
    }

    /**
     * The agent binds {@code --host} and publishes {@link #publishedHost()}, proves this worker's identity in every
     * handshake, authenticates peers with the cluster secret (TLS when configured), and takes only writes that carry
     * the fencing token of a live reservation.
     */
    private TransferConfig transferConfig(String backend) {
        DisaggregationOptions d = options.disaggregation();
        NodeSecurity security = options.security();
        return new TransferConfig(backend, workerId, options.host(), options.transferPort(), "/dev/shm", d.transferThreads(),
                java.time.Duration.ofMillis(d.prefillTimeoutMillis()), publishedHost(),
                new AgentIdentity(workerId, registry.nodeId(), epoch), security.secret(), security.tls(), true);
    }

    /** The host peers reach this worker at: {@code --advertise-host} (resolved by the main), else the bind host. */
    private String publishedHost() {
        return options.advertiseHost() != null ? options.advertiseHost() : options.host();
    }

    /** Bootstrap answers, and the prefill service or the remote-prefill client, by role. */
    private Future<Void> setUpDisaggregation() {
        if (agent == null || !(loaded.engine() instanceof DisaggregatedEngine engine)) return Future.succeededFuture();
        int[][] regions = kvMemory.regionTable();
        if (regions.length != engine.kvCache().layout().layers()) {
            LOG.log(System.Logger.Level.WARNING, "the engine's KV arenas are not registered with the transfer agent; "
                    + workerId + " neither sends nor receives KV");
            return Future.succeededFuture();
        }
        bootstrap = new KvBootstrap(workerId, agent.backend(), agent.metadata(), engine.kvCache().layout(), regions);
        transferMetrics.agent(agent);
        // on the cluster's event bus anyone who joins Hazelcast could ask: there only the authenticated GET /route serves it
        Future<Void> ready = Future.succeededFuture();
        if (!vertx.isClustered()) {
            bootstrapConsumer = vertx.eventBus().consumer(Addresses.bootstrap(workerId), m -> m.reply(bootstrap.toJson()));
            ready = bootstrapConsumer.completion();
        }
        DisaggregationOptions d = options.disaggregation();
        if (options.role() == WorkerRole.PREFILL) {
            peers = new PeerDirectory(vertx, registry, agent, engine.kvCache().layout(), options.security().secret(), workerId);
            prefillService = new PrefillService(vertx, context, workerId, engine, agent, kvMemory, peers, d, transferMetrics,
                    faults, tracer);
            ready = Future.all(ready, prefillService.start()).mapEmpty();
        } else {
            prefillClient = new RemotePrefillClient(vertx, context, registry, engine, workerId, loaded.modelName(), d,
                    transferMetrics, agent.fences(), regions, epoch);
        }
        return ready;
    }

    @Override
    public Future<?> stop() {
        return shutdown();
    }

    /** {@code /ready}: ready, starting, draining or stopping (only ready answers 200). */
    private String readiness() {
        if (stopping) return "stopping";
        if (draining) return "draining";
        return record == null ? "starting" : WorkerHttpServer.READY;
    }

    private JsonObject health() {
        return new JsonObject().put("status", stopping ? "stopping" : draining ? "draining" : "ok").put("workerId", workerId)
                .put("role", options.role().name().toLowerCase(Locale.ROOT)).put("model", loaded.modelName())
                .put("engine", options.engine()).put("streams", streams.size())
                .put("transfer", bootstrap == null ? "none" : bootstrap.backend());
    }

    private void onGenerate(Message<Object> msg) {
        if (!(msg.body() instanceof GenerateRequest req)) {
            metrics.ended("rejected");
            msg.fail(ErrorCode.INVALID_REQUEST.code(), "expected a GenerateRequest, got " + msg.body());
            return;
        }
        String refusal = refusal(req);
        if (refusal != null) {
            metrics.ended("rejected");
            msg.fail(refusalCode(req).code(), refusal);
            return;
        }
        Engine engine = loaded.engine();
        GenerateTrace trace = tracer.enabled() ? GenerateTrace.start(tracer, msg.headers(), req.requestId(), workerId,
                options.role().name().toLowerCase(Locale.ROOT), req.promptTokens().length) : null;
        RequestStream stream = new RequestStream(req.requestId(), req.initialCredits(), options.outboxCapacity(), engine,
                vertx.eventBus().<StreamMessage>sender(req.streamAddress()), vertx, options.stallTimeoutMillis(), streamListener);
        stream.keepAliveEvery(req.keepaliveMillis());
        streams.put(req.requestId(), stream);
        try {
            EngineRequest request = new EngineRequest(req.requestId(), req.promptTokens(), req.sampling(), req.resumedTokens());
            var sink = trace == null ? stream.engineSink(context) : trace.wrap(stream.engineSink(context), context);
            if (prefillClient != null && engine instanceof DisaggregatedEngine d) {
                d.submit(request, sink,
                        prefillClient.forRequest(req.sampling(), msg.headers().get(Addresses.PREFILL_WORKER_HEADER), trace));
            } else {
                engine.submit(request, sink);
            }
        } catch (EngineRejectedException e) {
            streams.remove(req.requestId());
            metrics.ended("rejected");
            if (trace != null) trace.refused(e.getMessage());
            msg.fail(e.code().code(), e.getMessage());
            return;
        } catch (RuntimeException e) {
            streams.remove(req.requestId());
            metrics.ended("failed");
            if (trace != null) trace.refused("engine error: " + e);
            LOG.log(System.Logger.Level.ERROR, "engine refused " + req.requestId() + " unexpectedly", e);
            msg.fail(ErrorCode.INTERNAL.code(), "engine error: " + e);
            return;
        }
        metrics.accepted(req.promptTokens().length);
        msg.reply(null); // accepted: the reply leaves before any token (engine events hop onto this context)
        stream.start();
        reportLoad();
    }

    /** Why this worker will not take the request, or null. */
    private String refusal(GenerateRequest req) {
        if (stopping) return "worker " + workerId + " is shutting down";
        if (draining) return "worker " + workerId + " is draining (shutting down): it takes no new requests";
        if (!options.role().servesGenerate()) return "worker " + workerId + " is a prefill worker and takes no generate requests";
        if (req.model() != null && !req.model().equals(loaded.modelName())) {
            return "worker " + workerId + " serves model '" + loaded.modelName() + "', not '" + req.model() + "'";
        }
        if (req.initialCredits() < 0) return "initialCredits must be >= 0, got " + req.initialCredits();
        if (streams.containsKey(req.requestId())) return "request id '" + req.requestId() + "' is already in progress";
        return null;
    }

    private ErrorCode refusalCode(GenerateRequest req) {
        if (stopping || !options.role().servesGenerate()) return ErrorCode.UNAVAILABLE;
        if (draining) return ErrorCode.DRAINING;
        if (req.model() != null && !req.model().equals(loaded.modelName())) return ErrorCode.MODEL_NOT_FOUND;
        return ErrorCode.INVALID_REQUEST;
    }

    private void onControl(Message<Object> msg) {
        switch (msg.body()) {
            case ControlMessage.Credit c -> {
                RequestStream s = streams.get(c.requestId());
                if (s != null) s.onCredit(c.tokens());
            }
            case ControlMessage.Cancel c -> {
                if (prefillService != null) prefillService.cancel(c.requestId());
                RequestStream s = streams.get(c.requestId());
                if (s != null) s.cancel(c.reason() == null ? "cancelled by the gateway" : c.reason());
            }
            case null, default -> LOG.log(System.Logger.Level.WARNING, "ignoring control message " + msg.body());
        }
    }

    private final RequestStream.Listener streamListener = new RequestStream.Listener() {
        @Override
        public void onTokensProduced(int count) {
            metrics.generated(count);
        }

        @Override
        public void onEnd(RequestStream stream, String outcome, Usage usage) {
            streams.remove(stream.requestId(), stream);
            metrics.ended(outcome);
            if (usage != null) metrics.cachedPromptTokens(usage.cachedTokens());
            reportLoad();
            if (streamsDone != null && streams.isEmpty()) streamsDone.tryComplete();
        }
    };

    /**
     * Keep-alives for streams that owe tokens but have none yet (queued, prefilling): sent only while the engine is
     * not stuck in one step for longer than the stream's keep-alive interval twice over.
     */
    private void keepStreamsAlive() {
        long now = System.nanoTime();
        long stepNanos = loaded.engine().currentStepNanos();
        for (RequestStream s : streams.values()) s.keepAlive(now, stepNanos < 2 * s.keepaliveNanos());
    }

    private void reportLoad() {
        if (loaded == null || record == null || stopping) return;
        WorkerLoad load = loaded.engine().load();
        registry.reportLoad(workerId, draining ? load.asDraining() : load);
    }

    /**
     * The graceful part of a stop, before undeploying: from now on the worker is reported draining and takes no new
     * generate request or remote prefill. It completes when every running stream and held prefill has ended, and at
     * the latest after {@code timeout}: then the streams still running are handed over (ended with
     * {@link ErrorCode#DRAINING}, cancelled in the engine). Held prefills are bounded by the prefill timeout, as on
     * shutdown. Idempotent; undeploy afterwards to deregister and free the KV cache.
     */
    public Future<DrainReport> drain(java.time.Duration timeout) {
        Promise<DrainReport> result = Promise.promise();
        context.runOnContext(v -> beginDrain(timeout).onComplete(result));
        return result.future();
    }

    private Future<DrainReport> beginDrain(java.time.Duration timeout) {
        if (drained != null) return drained;
        if (stopping || record == null) return drained = Future.succeededFuture(new DrainReport(0, 0, 0, 0));
        draining = true;
        long started = System.nanoTime();
        int running = streams.size();
        int prefills = prefillService == null ? 0 : prefillService.held();
        LOG.log(System.Logger.Level.INFO, "worker " + workerId + " draining: " + running + " streams running"
                + (prefillService == null ? "" : ", " + prefills + " prefills held") + ", timeout " + seconds(timeout));
        reportLoad(); // published at once: routers skip a draining worker
        streamsDone = Promise.promise();
        if (streams.isEmpty()) streamsDone.complete();
        int[] handedOver = {0};
        long timer = vertx.setTimer(Math.max(1, timeout.toMillis()), id -> {
            for (RequestStream s : List.copyOf(streams.values())) {
                handedOver[0]++;
                s.abort(ErrorCode.DRAINING, "worker draining: handed over");
            }
        });
        Future<Void> prefillsDone = prefillService == null ? Future.succeededFuture() : prefillService.drain();
        drained = Future.join(streamsDone.future(), prefillsDone).transform(ar -> {
            vertx.cancelTimer(timer);
            DrainReport report = new DrainReport(running, running - handedOver[0], handedOver[0],
                    java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            LOG.log(System.Logger.Level.INFO, "worker " + workerId + " drain done in " + report.millis() + " ms: "
                    + report.finished() + " finished, " + report.handedOver() + " handed over");
            return Future.succeededFuture(report);
        });
        return drained;
    }

    private static String seconds(java.time.Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() / 1000.0 + "s";
    }

    private Future<Void> closeEngine() {
        LoadedEngine engine = loaded;
        if (engine == null || engineClosed) return Future.succeededFuture();
        engineClosed = true;
        return vertx.executeBlocking(() -> {
            engine.close(); // joins the engine thread: off the event loop
            return null;
        });
    }

    /** After the engine: the agent frees the registered KV memory. */
    private Future<Void> closeTransferAgent() {
        TransferAgent a = agent;
        agent = null;
        if (peers != null) peers.close();
        if (prefillClient != null) prefillClient.close();
        if (a == null) return Future.succeededFuture();
        return vertx.executeBlocking(() -> {
            a.close();
            return null;
        });
    }

    /** Idempotent teardown, also used when start fails halfway. */
    private Future<Void> shutdown() {
        stopping = true;
        if (loadTimer >= 0) vertx.cancelTimer(loadTimer);
        if (keepaliveTimer >= 0) vertx.cancelTimer(keepaliveTimer);
        Future<Void> intake = generateConsumer == null ? Future.succeededFuture() : generateConsumer.unregister();
        Future<Void> registration = record == null ? Future.succeededFuture()
                : registry.deregister(workerId).otherwise(e -> {
                    LOG.log(System.Logger.Level.WARNING, "deregistering " + workerId + " failed", e);
                    return null;
                });
        for (RequestStream s : List.copyOf(streams.values())) s.abort(ErrorCode.UNAVAILABLE, "worker " + workerId + " is shutting down");
        Future<Void> control = controlConsumer == null ? Future.succeededFuture() : controlConsumer.unregister();
        Future<Void> server = http == null ? Future.succeededFuture() : http.close();
        Future<Void> kv = kvEvents == null ? Future.succeededFuture() : kvEvents.stop();
        Future<Void> prefills = prefillService == null ? Future.succeededFuture() : prefillService.drain();
        Future<Void> boot = bootstrapConsumer == null ? Future.succeededFuture() : bootstrapConsumer.unregister();
        return Future.join(List.of(intake, registration, control, server, kv, prefills, boot)).otherwiseEmpty()
                .compose(v -> closeEngine())
                .compose(v -> closeTransferAgent())
                .andThen(v -> {
                    if (metrics != null) metrics.close();
                })
                .mapEmpty();
    }
}
