package io.tandem.gateway.dispatch;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.router.ContractFilter;
import io.tandem.gateway.router.RouteChoice;
import io.tandem.gateway.router.RouteRequest;
import io.tandem.gateway.router.WorkerRouter;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.Addresses;
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

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Starts generations on workers: picks a worker with the {@link WorkerRouter}, opens the
 * per-request stream consumer, sends the {@link GenerateRequest} and retries on another worker
 * when the chosen one does not answer, is overloaded (once) or unavailable.
 *
 * <p>Failure mapping before a worker accepted: no live worker → 503; every tried worker
 * overloaded → 429; no handler / accept timeout / unavailable on every worker → 503; the
 * worker's INVALID_REQUEST → 400; INTERNAL → 500. 429 and 503 carry Retry-After.
 */
public final class Dispatcher {

    private static final System.Logger log = System.getLogger(Dispatcher.class.getName());
    private static final int MAX_ATTEMPTS = 4;

    final Vertx vertx;
    final EventBus eventBus;
    final WorkerRouter router;
    final DispatchOptions options;
    private final Set<GenerationStream> active = ConcurrentHashMap.newKeySet();
    /** Per worker: how to abort the generate requests still waiting for its accept. */
    private final Map<String, Set<Runnable>> pendingAccepts = new ConcurrentHashMap<>();
    private final AutoCloseable registryListener;
    private final Map<String, BlockHasher> hashers = new ConcurrentHashMap<>();
    private final RoutingMetrics metrics;
    private final ContractGate contracts;

    /** @param contracts which live workers of each model may be routed to */
    public Dispatcher(Vertx vertx, WorkerRegistry registry, WorkerRouter router, DispatchOptions options, RoutingMetrics metrics,
                      ContractGate contracts) {
        this.metrics = metrics;
        this.contracts = contracts;
        this.vertx = vertx;
        this.eventBus = vertx.eventBus();
        this.router = router;
        this.options = options;
        ProtocolCodecs.registerAll(eventBus);
        this.registryListener = registry.onChange(this::onWorkerEvent);
    }

    public WorkerRouter router() {
        return router;
    }

    /** Which workers requests may go to (the others are refused for their cluster contract). */
    public ContractGate contracts() {
        return contracts;
    }

    /** Generations currently streaming (accepted and not ended). */
    public int activeStreams() {
        return active.size();
    }

    /** A snapshot of the active generations (for operators and tests; read their fields on the event loop). */
    public List<GenerationStream> streams() {
        return List.copyOf(active);
    }

    /**
     * Starts a generation. The returned future succeeds once a worker accepted (tokens may reach
     * {@code listener} slightly before that) or fails with an {@link ApiException}.
     */
    public Future<GenerationStream> start(String requestId, String model, int[] promptTokens, SamplingParams sampling,
                                          StreamListener listener) {
        Promise<GenerationStream> result = Promise.promise();
        attempt(new Call(requestId, model, promptTokens, sampling, listener), result);
        return result.future();
    }

    private void attempt(Call call, Promise<GenerationStream> result) {
        long t0 = System.nanoTime();
        ContractFilter.Decision decision = contracts.decide(call.model);
        List<WorkerRecord> live = decision.accepted();
        // hashed with the block size of the workers it may go to (no accepted worker: nowhere to go anyway)
        RouteRequest prompt = decision.blockSize().isPresent() ? routeRequest(call, decision.blockSize().getAsInt()) : RouteRequest.NONE;
        Optional<RouteChoice> choice = call.attempts < MAX_ATTEMPTS && !live.isEmpty()
                ? router.route(call.model, live, call.tried, prompt) : Optional.empty();
        if (choice.isPresent()) {
            RouteChoice c = choice.get();
            metrics.routed(System.nanoTime() - t0, c.cachedBlocks(), c.promptBlocks());
            log.log(System.Logger.Level.DEBUG, "route {0} ({1}, {2} prompt blocks) -> {3}, {4} blocks cached there",
                    call.requestId, router.mode(), c.promptBlocks(), c.worker().workerId(), c.cachedBlocks());
        }
        if (choice.isEmpty()) {
            String refused = decision.refused().isEmpty() ? ""
                    : " (" + decision.refused().size() + " live worker(s) refused for a cluster-contract mismatch, see the gateway log)";
            result.fail(call.lastError != null ? call.lastError
                    : ApiException.unavailable("No worker is available for model '" + call.model + "'" + refused + "; retry later",
                    options.retryAfterSeconds()));
            return;
        }
        WorkerRecord worker = choice.get().worker();
        call.tried.add(worker.workerId());
        String id = call.attempts == 0 ? call.requestId : call.requestId + "-" + call.attempts;
        call.attempts++;
        GenerationStream stream = new GenerationStream(this, id, worker, call.listener, prompt.promptBlocks());
        GenerateRequest request = new GenerateRequest(id, call.model, call.promptTokens, call.sampling,
                Addresses.stream(id), options.initialCredits());
        DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(options.acceptTimeoutMs());
        router.routePrefill(live, prompt).ifPresent(p -> delivery.addHeader(Addresses.PREFILL_WORKER_HEADER, p.workerId()));
        // a worker that leaves the registry while we wait for its accept will never answer
        Promise<Void> accepted = Promise.promise();
        Runnable abort = () -> accepted.tryFail(new ReplyException(ReplyFailure.NO_HANDLERS,
                "worker " + worker.workerId() + " left the registry"));
        Set<Runnable> waiting = pendingAccepts.computeIfAbsent(worker.workerId(), k -> ConcurrentHashMap.newKeySet());
        waiting.add(abort);
        stream.open()
                .compose(v -> eventBus.request(worker.generateAddress(), request, delivery))
                .onComplete(ar -> {
                    if (ar.succeeded()) accepted.tryComplete();
                    else accepted.tryFail(ar.cause());
                });
        accepted.future()
                .onComplete(ar -> waiting.remove(abort))
                .onSuccess(v -> {
                    stream.accepted();
                    result.complete(stream);
                })
                .onFailure(err -> {
                    stream.refused();
                    Refusal r = classify(worker, id, call, err);
                    call.lastError = call.lastError != null && call.lastError.status() == 429 && r.error.status() == 503
                            ? call.lastError : r.error;
                    if (r.retry) {
                        log.log(System.Logger.Level.DEBUG, "worker {0} refused {1}: {2}; trying another", worker.workerId(), id, err.getMessage());
                        attempt(call, result);
                    } else {
                        result.fail(call.lastError);
                    }
                });
    }

    private record Refusal(ApiException error, boolean retry) {}

    private Refusal classify(WorkerRecord worker, String id, Call call, Throwable err) {
        int retryAfter = options.retryAfterSeconds();
        if (!(err instanceof ReplyException re)) {
            return new Refusal(ApiException.internal("Could not reach a worker: " + err.getMessage()), false);
        }
        switch (re.failureType()) {
            case NO_HANDLERS -> {
                router.suspect(worker.workerId());
                return new Refusal(ApiException.unavailable("No worker is available for model '" + call.model + "'; retry later", retryAfter), true);
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
                    case OVERLOADED -> {
                        boolean retry = !call.overloadRetried;
                        call.overloadRetried = true;
                        yield new Refusal(ApiException.overloaded("All workers for model '" + call.model + "' are busy; retry later", retryAfter), retry);
                    }
                    case UNAVAILABLE, DRAINING, MODEL_NOT_FOUND, PEER_REFUSED -> new Refusal(ApiException.unavailable(message, retryAfter), true);
                    case INVALID_REQUEST -> new Refusal(ApiException.invalid(null, message), false);
                    case INTERNAL -> new Refusal(ApiException.internal(message), false);
                };
            }
        }
    }

    void track(GenerationStream stream) {
        active.add(stream);
    }

    void untrack(GenerationStream stream) {
        active.remove(stream);
    }

    /** A worker left the registry: its pending accepts and its streams will never finish, fail them now. */
    private void onWorkerEvent(WorkerEvent event) {
        if (!(event instanceof WorkerEvent.Removed removed)) return;
        Set<Runnable> waiting = pendingAccepts.remove(removed.worker().workerId());
        if (waiting != null) waiting.forEach(Runnable::run);
        for (GenerationStream s : active) {
            if (s.workerId().equals(removed.worker().workerId())) {
                s.workerLost("The worker serving this request left (" + removed.cause().name().toLowerCase() + ")");
            }
        }
    }

    /** Cancels every active generation on its worker (gateway shutdown). */
    public void close() {
        contracts.close();
        try {
            registryListener.close();
        } catch (Exception e) {
            log.log(System.Logger.Level.DEBUG, "closing the registry listener", e);
        }
        for (GenerationStream s : active) s.cancel("gateway shutting down");
    }

    /**
     * The prompt's chained block hashes in blocks of {@code blockSize} (the same hashes the workers' caches use),
     * computed once per request unless a retry finds the model's workers on another block size.
     */
    private RouteRequest routeRequest(Call call, int blockSize) {
        if (call.route == null || call.routeBlockSize != blockSize) {
            BlockHasher hasher = hashers.compute(call.model,
                    (m, old) -> old != null && old.blockSize() == blockSize ? old : new BlockHasher(m, blockSize));
            call.route = new RouteRequest(hasher.hashBlocks(call.promptTokens), (call.promptTokens.length + blockSize - 1) / blockSize);
            call.routeBlockSize = blockSize;
        }
        return call.route;
    }

    private static final class Call {
        RouteRequest route;
        int routeBlockSize;
        final String requestId;
        final String model;
        final int[] promptTokens;
        final SamplingParams sampling;
        final StreamListener listener;
        final Set<String> tried = new HashSet<>();
        int attempts;
        boolean overloadRetried;
        ApiException lastError;

        Call(String requestId, String model, int[] promptTokens, SamplingParams sampling, StreamListener listener) {
            this.requestId = requestId;
            this.model = model;
            this.promptTokens = promptTokens;
            this.sampling = sampling;
            this.listener = listener;
        }
    }
}
