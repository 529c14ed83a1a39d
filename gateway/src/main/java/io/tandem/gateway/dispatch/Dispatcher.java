package io.tandem.gateway.dispatch;

import io.opentelemetry.context.Context;
import io.tandem.gateway.tracing.RequestTrace;
import io.tandem.worker.tracing.ServiceTracer;
import io.tandem.worker.tracing.Tracing;
import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.router.ContractFilter;
import io.tandem.gateway.router.RouteChoice;
import io.tandem.gateway.router.RouteRequest;
import io.tandem.gateway.router.SloRouting;
import io.tandem.gateway.slo.SloAdmission;
import io.tandem.gateway.slo.SloControl;
import io.tandem.gateway.slo.SloTargets;
import io.tandem.gateway.router.WorkerRouter;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent;
import io.tandem.registry.WorkerRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Places generations on workers and keeps them there: picks a worker with the {@link WorkerRouter}, sends the
 * {@link GenerateRequest}, tries another worker when the chosen one does not answer, refuses or is unavailable;
 * queues the request when every worker is busy; and migrates a running generation to another worker when its worker
 * dies, stalls or drains (see {@link GenerationStream}). Runs on one event loop.
 *
 * <p>Failure mapping before a worker accepted: no live worker → 503; every worker busy → the request waits in the
 * {@link AdmissionQueue} for up to {@code maxQueueWaitMs} (then 503), or 429 at once when the queue is full; the
 * worker's INVALID_REQUEST → 400; INTERNAL → 500. 429 and 503 carry Retry-After.
 */
public final class Dispatcher {

    private static final System.Logger log = System.getLogger(Dispatcher.class.getName());
    /** Workers one dispatch round tries before it gives up (or queues). */
    private static final int MAX_ATTEMPTS = 4;
    /** While requests wait, how often the queue tries a worker again without a local signal (another gateway's
     *  request may have freed a slot). */
    private static final long QUEUE_RETRY_MILLIS = 200;

    final Vertx vertx;
    final EventBus eventBus;
    final WorkerRouter router;
    final DispatchOptions options;
    private final Set<GenerationStream> active = ConcurrentHashMap.newKeySet();
    /** Per worker: how to abort the generate requests still waiting for its accept. */
    private final Map<String, Set<Runnable>> pendingAccepts = new HashMap<>();
    private final AutoCloseable registryListener;
    private final Map<String, BlockHasher> hashers = new HashMap<>();
    private final RoutingMetrics metrics;
    private final DispatchMetrics dispatchMetrics;
    private final ContractGate contracts;
    private final AdmissionQueue<GenerationStream> queue;
    /** Models whose queue head is being tried now: one at a time, so the queue keeps its order. */
    private final Set<String> pumping = new HashSet<>();
    private final Map<String, Long> retryTimers = new HashMap<>();
    private final Set<String> watchedQueues = new HashSet<>();
    private long arrivals;
    private final ServiceTracer tracer;
    private final SloControl slo;

    /** @param contracts which live workers of each model may be routed to */
    public Dispatcher(Vertx vertx, WorkerRegistry registry, WorkerRouter router, DispatchOptions options, RoutingMetrics metrics,
                      ContractGate contracts, DispatchMetrics dispatchMetrics) {
        this(vertx, registry, router, options, metrics, contracts, dispatchMetrics, SloControl.off());
    }

    /** @param slo TTFT prediction, SLO-aware routing and admission ({@code --admission}, {@code --slo-*}) */
    public Dispatcher(Vertx vertx, WorkerRegistry registry, WorkerRouter router, DispatchOptions options, RoutingMetrics metrics,
                      ContractGate contracts, DispatchMetrics dispatchMetrics, SloControl slo) {
        this.slo = slo;
        this.metrics = metrics;
        this.dispatchMetrics = dispatchMetrics;
        this.contracts = contracts;
        this.vertx = vertx;
        this.eventBus = vertx.eventBus();
        this.router = router;
        this.options = options;
        this.queue = new AdmissionQueue<>(options.maxQueue(), g -> g.priority, g -> g.arrival);
        ProtocolCodecs.registerAll(eventBus);
        this.registryListener = registry.onChange(this::onWorkerEvent);
        this.tracer = Tracing.of(vertx).tracer(Tracing.GATEWAY_SERVICE);
    }

    public Dispatcher(Vertx vertx, WorkerRegistry registry, WorkerRouter router, DispatchOptions options, RoutingMetrics metrics,
                      ContractGate contracts) {
        this(vertx, registry, router, options, metrics, contracts, DispatchMetrics.NONE);
    }

    public WorkerRouter router() {
        return router;
    }

    /** The SLO defaults, admission mode, predictor and meters. */
    public SloControl slo() {
        return slo;
    }

    /** Which workers requests may go to (the others are refused for their cluster contract). */
    public ContractGate contracts() {
        return contracts;
    }

    /** Generations the gateway holds: waiting for a worker, queued or streaming. */
    public int activeStreams() {
        return active.size();
    }

    /** Requests waiting in the queue for a worker, all models. */
    public int queuedRequests() {
        return queue.size();
    }

    /** A snapshot of the held generations (for operators and tests; read their fields on the event loop). */
    public List<GenerationStream> streams() {
        return List.copyOf(active);
    }

    /**
     * Starts a generation at the default priority. The returned future succeeds once a worker accepted (the listener's
     * {@code onAccepted} came first) or fails with an {@link ApiException}.
     */
    public Future<GenerationStream> start(String requestId, String model, int[] promptTokens, SamplingParams sampling,
                                          StreamListener listener) {
        return start(requestId, model, promptTokens, sampling, 0, listener).acceptance();
    }

    /**
     * Starts a generation; its {@link GenerationStream#acceptance()} tells when a worker took it. {@code priority}
     * orders the queue when every worker is busy: lower first, ties first come first served.
     */
    public GenerationStream start(String requestId, String model, int[] promptTokens, SamplingParams sampling,
                                  int priority, StreamListener listener) {
        return start(requestId, model, promptTokens, sampling, priority, System.nanoTime(), listener);
    }

    /**
     * As {@link #start(String, String, int[], SamplingParams, int, StreamListener)}, for a request the gateway received
     * at {@code receivedNanos} ({@link System#nanoTime()}): the worker's accept records the gateway's admission time
     * from then ({@code tandem_gateway_overhead_seconds{phase="admit"}}).
     */
    public GenerationStream start(String requestId, String model, int[] promptTokens, SamplingParams sampling,
                                  int priority, long receivedNanos, StreamListener listener) {
        return start(requestId, model, promptTokens, sampling, priority, receivedNanos, SloTargets.NONE, listener);
    }

    /**
     * As {@link #start(String, String, int[], SamplingParams, int, long, StreamListener)}, with the request's latency
     * objectives: its TTFT objective steers routing and, with {@code --admission slo}, refuses it (429
     * {@code slo_unattainable}) when no worker is predicted to meet it.
     */
    public GenerationStream start(String requestId, String model, int[] promptTokens, SamplingParams sampling,
                                  int priority, long receivedNanos, SloTargets objectives, StreamListener listener) {
        GenerationStream g = new GenerationStream(this, requestId, model, promptTokens, resumable(sampling), priority, listener);
        g.receivedNanos = receivedNanos;
        g.slo = objectives;
        if (tracer.enabled()) g.traceContext = Context.current(); // set by the caller's trace
        g.arrival = arrivals++;
        active.add(g);
        if (queue.size(model) > 0) enqueue(g); // others wait already: no overtaking
        else route(g);
        return g;
    }

    /**
     * Sampling a migration can continue: a request without a seed gets a random one here, so the worker that
     * continues it draws the same random stream (greedy requests need none).
     */
    private static SamplingParams resumable(SamplingParams s) {
        if (s.isGreedy() || s.seed() != null) return s;
        return new SamplingParams(s.maxTokens(), s.temperature(), s.topP(), s.topK(), s.minP(),
                ThreadLocalRandom.current().nextLong(), s.presencePenalty(), s.frequencyPenalty(), s.stopTokenIds(),
                s.ignoreEos(), s.logprobs());
    }

    /** One dispatch round: route, send, and on refusal try the next worker. */
    private void route(GenerationStream g) {
        if (g.isDone()) return;
        g.state(GenerationStream.State.DISPATCHING);
        long t0 = System.nanoTime();
        ContractFilter.Decision decision = contracts.decide(g.model);
        List<WorkerRecord> live = decision.accepted(); // the router skips draining workers
        // hashed with the block size of the workers it may go to (no accepted worker: nowhere to go anyway)
        RouteRequest prompt = decision.blockSize().isPresent() ? routeRequest(g, decision.blockSize().getAsInt()) : RouteRequest.NONE;
        int blockSize = decision.blockSize().orElse(1);
        Optional<RouteChoice> choice = g.attempts < MAX_ATTEMPTS && !live.isEmpty()
                ? router.route(g.model, live, g.tried, prompt, sloRouting(g, blockSize, t0)) : Optional.empty();
        if (choice.isEmpty()) {
            noWorker(g, decision);
            return;
        }
        RouteChoice c = choice.get();
        if (c.unattainable()) {
            settledFromQueue(g, false);
            g.failed(SloAdmission.unattainable(c.bestTtftMs() + elapsedMillis(g, t0), g.slo.ttftMs()));
            return;
        }
        metrics.routed(System.nanoTime() - t0, c.cachedBlocks(), c.promptBlocks());
        WorkerRecord worker = c.worker();
        log.log(System.Logger.Level.DEBUG, "route {0} ({1}, {2} prompt blocks) -> {3}, {4} blocks cached there",
                g.requestId, router.mode(), c.promptBlocks(), worker.workerId(), c.cachedBlocks());
        g.tried.add(worker.workerId());
        // every attempt has its own id (and stream address): a late message of an earlier one cannot mix in
        String id = g.attemptSerial == 0 ? g.requestId : g.requestId + "-" + g.attemptSerial;
        g.attemptSerial++;
        g.attempts++;
        WorkerAttempt attempt = new WorkerAttempt(this, id, worker, prompt.promptBlocks());
        attempt.predicted(slo.sent(worker, id, uncachedTokens(g, c.cachedBlocks(), blockSize), t0), t0);
        GenerateRequest request = new GenerateRequest(id, g.model, g.promptTokens, g.sampling, Addresses.stream(id),
                options.initialCredits(), g.deliveredTokens(), options.keepaliveMillis());
        DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(options.acceptTimeoutMs());
        router.routePrefill(live, prompt).ifPresent(p -> delivery.addHeader(Addresses.PREFILL_WORKER_HEADER, p.workerId()));
        if (g.traceContext != null) {
            RequestTrace.routed(tracer, g.traceContext, t0, c, decision.blockSize().orElse(0),
                    router.mode().toString(), id, delivery.getHeaders() == null ? null
                            : delivery.getHeaders().get(Addresses.PREFILL_WORKER_HEADER), delivery);
        }
        // a worker that leaves the registry while we wait for its accept will never answer
        Promise<Void> accepted = Promise.promise();
        Runnable abort = () -> accepted.tryFail(new ReplyException(ReplyFailure.NO_HANDLERS,
                "worker " + worker.workerId() + " left the registry"));
        Set<Runnable> waiting = pendingAccepts.computeIfAbsent(worker.workerId(), k -> new HashSet<>());
        waiting.add(abort);
        attempt.open()
                .compose(v -> eventBus.request(worker.generateAddress(), request, delivery))
                .onComplete(ar -> {
                    if (ar.succeeded()) accepted.tryComplete();
                    else accepted.tryFail(ar.cause());
                });
        accepted.future()
                .onComplete(ar -> waiting.remove(abort))
                .onSuccess(v -> {
                    if (g.isDone()) { // the client left or the text ended while we waited
                        attempt.cancel("request ended");
                        return;
                    }
                    settledFromQueue(g, true);
                    g.attached(attempt);
                })
                .onFailure(err -> {
                    attempt.refused();
                    if (g.isDone()) return;
                    Refusal r = classify(worker, id, g, err);
                    g.lastError = g.lastError != null && g.lastError.status() == 429 && r.error.status() == 503
                            ? g.lastError : r.error;
                    if (r.retry) {
                        log.log(System.Logger.Level.DEBUG, "worker {0} refused {1}: {2}; trying another", worker.workerId(), id, err.getMessage());
                        route(g);
                    } else {
                        settledFromQueue(g, false);
                        g.failed(g.lastError);
                    }
                });
    }

    /**
     * How the router weighs this request's TTFT objective: predictions only when it has one, and refusal only with
     * {@code --admission slo} and before any token reached the client (a migrating stream is never refused).
     */
    private SloRouting sloRouting(GenerationStream g, int blockSize, long now) {
        if (!g.slo.hasTtft()) return SloRouting.NONE;
        boolean refuse = slo.admission() == SloAdmission.SLO && g.receivedTokens() == 0 && g.migrations() == 0;
        return new SloRouting((w, cachedBlocks) -> slo.predictMillis(w, uncachedTokens(g, cachedBlocks, blockSize), now),
                g.slo.ttftMs() - elapsedMillis(g, now), refuse);
    }

    /** Time the request spent in the gateway before this routing decision: it counts against its TTFT. */
    private static double elapsedMillis(GenerationStream g, long now) {
        return Math.max(0, now - g.receivedNanos) / 1e6;
    }

    /** The tokens a worker holding {@code cachedBlocks} of the prompt still has to compute before the first token. */
    private static long uncachedTokens(GenerationStream g, int cachedBlocks, int blockSize) {
        return Math.max(1, g.promptTokens.length + g.receivedTokens() - (long) cachedBlocks * blockSize);
    }

    /**
     * The attempt's first token came (it was sent at {@code sentNanos}, predicted to take {@code predictedMs}): its
     * prompt left the worker's queue, and the prediction is scored.
     */
    void firstToken(WorkerAttempt attempt, long sentNanos, double predictedMs) {
        long now = System.nanoTime();
        slo.done(attempt.worker().workerId(), attempt.requestId(), now);
        if (!Double.isNaN(predictedMs)) slo.metrics().predicted(predictedMs, (now - sentNanos) / 1e6);
    }

    /** The attempt ended (any way): whatever it had queued on its worker is gone. */
    void attemptEnded(WorkerAttempt attempt) {
        slo.done(attempt.worker().workerId(), attempt.requestId(), System.nanoTime());
    }

    /** No worker (left) for this round: wait in the queue if the request may, else fail. */
    private void noWorker(GenerationStream g, ContractFilter.Decision decision) {
        boolean busy = g.lastError != null && g.lastError.status() == 429;
        boolean mayWait = options.maxQueueWaitMs() > 0 && (busy || g.waitsForAnyWorker) && !queueWaitExpired(g);
        if (mayWait) {
            boolean wasPumped = pumping.contains(g.model) && g.queuedAtNanos >= 0;
            if (wasPumped) {
                pumping.remove(g.model);
                queue.putBack(g.model, g);
                g.state(GenerationStream.State.QUEUED);
                scheduleRetry(g.model);
            } else {
                enqueue(g);
            }
            return;
        }
        boolean waited = g.queuedAtNanos >= 0;
        settledFromQueue(g, false);
        if (waited) {
            dispatchMetrics.queueRefused("expired");
            g.failed(ApiException.unavailable("No worker of model '" + g.model + "' could take the request within "
                    + options.maxQueueWaitMs() / 1000.0 + " s (--max-queue-wait); retry later", options.retryAfterSeconds()));
            return;
        }
        String refused = decision.refused().isEmpty() ? ""
                : " (" + decision.refused().size() + " live worker(s) refused for a cluster-contract mismatch, see the gateway log)";
        g.failed(g.lastError != null && !g.waitsForAnyWorker ? g.lastError
                : ApiException.unavailable("No worker is available for model '" + g.model + "'" + refused + "; retry later",
                options.retryAfterSeconds()));
    }

    private boolean queueWaitExpired(GenerationStream g) {
        return g.queuedAtNanos >= 0 && System.nanoTime() - g.queuedAtNanos >= options.maxQueueWaitMs() * 1_000_000L;
    }

    private void enqueue(GenerationStream g) {
        if (options.maxQueueWaitMs() == 0 || !queue.offer(g.model, g)) {
            dispatchMetrics.queueRefused("full");
            g.failed(ApiException.overloaded("All workers for model '" + g.model + "' are busy and " + queue.size(g.model)
                    + " requests wait already (--max-queue " + options.maxQueue() + "); retry later", options.retryAfterSeconds()));
            return;
        }
        if (watchedQueues.add(g.model)) dispatchMetrics.watchQueue(g.model, queue::size);
        g.state(GenerationStream.State.QUEUED);
        if (g.queuedAtNanos < 0) {
            g.queuedAtNanos = System.nanoTime();
            g.queueTimer = vertx.setTimer(Math.max(1, options.maxQueueWaitMs()), t -> queueWaitOver(g));
        }
        scheduleRetry(g.model);
    }

    /** The request's queue wait is over; it fails unless a worker is trying it right now (that try decides). */
    private void queueWaitOver(GenerationStream g) {
        g.queueTimer = -1;
        if (g.state() != GenerationStream.State.QUEUED || !queue.remove(g.model, g)) return;
        dispatchMetrics.queueRefused("expired");
        g.failed(ApiException.unavailable("No worker of model '" + g.model + "' could take the request within "
                + options.maxQueueWaitMs() / 1000.0 + " s (--max-queue-wait); retry later", options.retryAfterSeconds()));
    }

    /** Tries the head of the model's queue, one at a time; a success tries the next at once. */
    private void pump(String model) {
        if (pumping.contains(model)) return;
        GenerationStream g;
        do {
            g = queue.poll(model);
            if (g == null) return;
        } while (g.isDone());
        pumping.add(model);
        g.tried.clear();
        g.attempts = 0;
        g.lastError = null;
        route(g);
    }

    /** A request taken from the queue is placed ({@code placed}) or failed: the next may go. */
    private void settledFromQueue(GenerationStream g, boolean placed) {
        if (g.queuedAtNanos < 0 || !pumping.contains(g.model)) return;
        pumping.remove(g.model);
        long waited = System.nanoTime() - g.queuedAtNanos;
        g.queuedNanos += waited;
        if (placed) dispatchMetrics.dequeued(waited);
        if (g.queueTimer >= 0) vertx.cancelTimer(g.queueTimer);
        g.queueTimer = -1;
        g.queuedAtNanos = -1;
        pump(g.model);
    }

    private void scheduleRetry(String model) {
        if (retryTimers.containsKey(model) || queue.size(model) == 0) return;
        retryTimers.put(model, vertx.setTimer(QUEUE_RETRY_MILLIS, t -> {
            retryTimers.remove(model);
            pump(model);
            scheduleRetry(model);
        }));
    }

    /** The first worker accepted {@code g}: the gateway's share of admitting it, without its queue wait. */
    void admitted(GenerationStream g) {
        dispatchMetrics.admitted(System.nanoTime() - g.receivedNanos - g.queuedNanos);
    }

    /** A token message of {@code nanos} went from its arrival to the client. */
    void relayed(long nanos) {
        dispatchMetrics.relayed(nanos);
    }

    /** Continues {@code g} on another worker after its attempt on {@code fromWorker} failed. */
    void migrate(GenerationStream g, String fromWorker, MigrationReason reason) {
        dispatchMetrics.migrated(reason);
        log.log(System.Logger.Level.INFO, "migrating {0} from worker {1} after {2} tokens ({3}), migration {4} of at most {5}",
                g.requestId, fromWorker, g.receivedTokens(), reason.label(), g.migrations(), options.migrationLimit());
        if (reason == MigrationReason.STALLED) router.suspect(fromWorker);
        g.tried.clear();
        g.tried.add(fromWorker);
        g.attempts = 0;
        g.lastError = null;
        g.waitsForAnyWorker = true; // its worker may be restarting: wait for one rather than fail
        route(g);
    }

    private record Refusal(ApiException error, boolean retry) {}

    private Refusal classify(WorkerRecord worker, String id, GenerationStream g, Throwable err) {
        int retryAfter = options.retryAfterSeconds();
        if (!(err instanceof ReplyException re)) {
            return new Refusal(ApiException.internal("Could not reach a worker: " + err.getMessage()), false);
        }
        switch (re.failureType()) {
            case NO_HANDLERS -> {
                router.suspect(worker.workerId());
                return new Refusal(ApiException.unavailable("No worker is available for model '" + g.model + "'; retry later", retryAfter), true);
            }
            case TIMEOUT -> {
                router.suspect(worker.workerId());
                // it may still accept late: make sure it does not generate for nobody
                eventBus.send(worker.controlAddress(), new ControlMessage.Cancel(id, "accept timeout"));
                return new Refusal(ApiException.unavailable("The worker did not answer in time; retry later", retryAfter), true);
            }
            default -> {
                String message = re.getMessage() == null ? "worker error" : re.getMessage();
                return switch (ErrorCode.fromCode(re.failureCode())) {
                    case OVERLOADED -> new Refusal(ApiException.overloaded("All workers for model '" + g.model
                            + "' are busy; retry later", retryAfter), true);
                    case UNAVAILABLE, DRAINING, MODEL_NOT_FOUND, PEER_REFUSED -> new Refusal(ApiException.unavailable(message, retryAfter), true);
                    case INVALID_REQUEST -> new Refusal(ApiException.invalid(null, message), false);
                    case INTERNAL -> new Refusal(ApiException.internal(message), false);
                };
            }
        }
    }

    /** {@code g} will not be placed any more (client gone, text ended): leave the queue at once. */
    void abandon(GenerationStream g) {
        queue.remove(g.model, g);
        if (g.queueTimer >= 0) vertx.cancelTimer(g.queueTimer);
        g.queueTimer = -1;
        if (pumping.contains(g.model) && g.queuedAtNanos >= 0) settledFromQueue(g, false);
    }

    /** {@code g} ended (any way): it frees its place, so a queued request may take it. */
    void ended(GenerationStream g) {
        abandon(g);
        active.remove(g);
        if (queue.size(g.model) > 0) pump(g.model);
    }

    /** Worker changes: a worker that left takes its streams with it (they migrate); new capacity serves the queue. */
    private void onWorkerEvent(WorkerEvent event) {
        if (!(event instanceof WorkerEvent.Removed removed)) {
            if (queue.size(event.worker().model()) > 0) pump(event.worker().model());
            return;
        }
        String workerId = removed.worker().workerId();
        slo.forget(workerId);
        Set<Runnable> waiting = pendingAccepts.remove(workerId);
        if (waiting != null) List.copyOf(waiting).forEach(Runnable::run);
        for (GenerationStream s : active) {
            WorkerAttempt a = s.attempt();
            if (a != null && a.worker().workerId().equals(workerId)) {
                a.workerLost(MigrationReason.WORKER_LEFT,
                        "The worker serving this request left (" + removed.cause().name().toLowerCase() + ")");
            }
        }
    }

    /** Cancels every held generation on its worker (gateway shutdown). */
    public void close() {
        contracts.close();
        try {
            registryListener.close();
        } catch (Exception e) {
            log.log(System.Logger.Level.DEBUG, "closing the registry listener", e);
        }
        retryTimers.values().forEach(vertx::cancelTimer);
        retryTimers.clear();
        for (GenerationStream s : List.copyOf(active)) s.cancel("gateway shutting down");
    }

    /**
     * The prompt's chained block hashes in blocks of {@code blockSize} (the same hashes the workers' caches use),
     * computed once per request unless a retry finds the model's workers on another block size. A migrated request's
     * delivered tokens are not hashed: the prompt's blocks are what other workers may have cached.
     */
    private RouteRequest routeRequest(GenerationStream g, int blockSize) {
        if (g.route == null || g.routeBlockSize != blockSize) {
            BlockHasher hasher = hashers.compute(g.model,
                    (m, old) -> old != null && old.blockSize() == blockSize ? old : new BlockHasher(m, blockSize));
            g.route = new RouteRequest(hasher.hashBlocks(g.promptTokens), (g.promptTokens.length + blockSize - 1) / blockSize);
            g.routeBlockSize = blockSize;
        }
        return g.route;
    }
}
