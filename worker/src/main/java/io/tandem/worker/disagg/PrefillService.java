package io.tandem.worker.disagg;

import io.tandem.worker.tracing.PrefillTrace;
import io.tandem.worker.tracing.ServiceTracer;

import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.remote.DisaggregatedEngine;
import io.tandem.engine.remote.LayerwiseExportPlan;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.RemotePrefillMessage;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.transfer.TransferAgent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The prefill role: takes {@link RemotePrefillMessage.Request}s from decode workers, computes each prompt on the
 * engine (reusing its prefix cache), writes the KV into the decode worker's blocks layer by layer through the
 * transfer agent, and replies with the first token once every byte is in place — or fails the reply (queue full,
 * layout mismatch, transfer error), and the decode worker prefills locally. On shutdown it takes nothing new and
 * finishes the prefills it holds before the engine closes. Runs on its verticle's event loop.
 */
public final class PrefillService {
    private static final System.Logger LOG = System.getLogger(PrefillService.class.getName());

    private final Vertx vertx;
    private final Context context;
    private final DisaggregatedEngine engine;
    private final TransferAgent agent;
    private final RegisteredKvMemory regions;
    private final PeerDirectory peers;
    private final DisaggregationOptions options;
    private final TransferMetrics metrics;
    private final PrefillFaults faults;
    private final String workerId;
    private final ServiceTracer tracer;
    private final Map<String, TransferKvExport> inFlight = new HashMap<>();
    /** Requests cancelled while their peer was still loading (their slot in {@code inFlight} holds no export yet). */
    private final Set<String> cancelledEarly = new HashSet<>();
    private MessageConsumer<Object> consumer;
    private boolean stopping;
    private Promise<Void> drained;

    public PrefillService(Vertx vertx, Context context, String workerId, DisaggregatedEngine engine, TransferAgent agent,
                          RegisteredKvMemory regions, PeerDirectory peers, DisaggregationOptions options, TransferMetrics metrics,
                          PrefillFaults faults, ServiceTracer tracer) {
        this.tracer = tracer;
        this.vertx = vertx;
        this.context = context;
        this.workerId = workerId;
        this.engine = engine;
        this.agent = agent;
        this.regions = regions;
        this.peers = peers;
        this.options = options;
        this.metrics = metrics;
        this.faults = faults;
        metrics.queueDepth(this::depth);
    }

    public Future<Void> start() {
        consumer = vertx.eventBus().consumer(Addresses.prefill(workerId), this::onRequest);
        return consumer.completion();
    }

    /** Remote prefills this worker holds now (computing or sending KV). */
    public int held() {
        return inFlight.size();
    }

    private int depth() {
        return inFlight.size();
    }

    private void onRequest(Message<Object> msg) {
        if (!(msg.body() instanceof RemotePrefillMessage.Request req)) {
            msg.fail(ErrorCode.INVALID_REQUEST.code(), "expected a remote prefill request, got " + msg.body());
            return;
        }
        if (stopping) { // the decode worker prefills locally
            msg.fail(ErrorCode.DRAINING.code(), "prefill worker " + workerId + " is draining (shutting down)");
            return;
        }
        if (inFlight.size() >= options.maxPrefillQueue()) {
            msg.fail(ErrorCode.OVERLOADED.code(), "prefill queue of " + workerId + " is full (" + inFlight.size() + ")");
            return;
        }
        if (inFlight.containsKey(req.requestId())) {
            msg.fail(ErrorCode.INVALID_REQUEST.code(), "request " + req.requestId() + " is already being prefilled");
            return;
        }
        PrefillTrace trace = tracer.enabled() ? PrefillTrace.start(tracer, msg.headers(), req.requestId(), workerId,
                req.decodeWorkerId(), req.promptTokens().length, req.cachedTokens()) : null;
        inFlight.put(req.requestId(), null); // holds its queue slot while the peer loads
        peers.peer(req.decodeWorkerId())
                .compose(peer -> peer.epoch() == req.decodeEpoch() ? Future.succeededFuture(peer)
                        : Future.failedFuture(new PeerMismatchException("the request of " + req.decodeWorkerId() + " comes from its "
                        + "start " + Long.toUnsignedString(req.decodeEpoch(), 16) + ", the registry knows start "
                        + Long.toUnsignedString(peer.epoch(), 16) + ": not writing into either")))
                .compose(peer -> Future.fromCompletionStage(faults.beforePrefill(req.requestId()), context).map(peer))
                .onComplete(ar -> {
                    if (cancelledEarly.remove(req.requestId())) {
                        inFlight.remove(req.requestId());
                        if (trace != null) trace.failed("the decode worker cancelled");
                        msg.fail(ErrorCode.UNAVAILABLE.code(), "the decode worker cancelled " + req.requestId());
                    } else if (ar.failed()) {
                        inFlight.remove(req.requestId());
                        if (trace != null) trace.failed(String.valueOf(ar.cause().getMessage()));
                        refuse(req, msg, ar.cause());
                    } else {
                        submit(req, ar.result(), msg, trace);
                        return;
                    }
                    checkDrained();
                });
    }

    /** The decode worker prefills locally; an identity mismatch is logged and counted here, where it was found. */
    private void refuse(RemotePrefillMessage.Request req, Message<Object> msg, Throwable cause) {
        if (cause instanceof PeerMismatchException) {
            metrics.peerMismatch();
            LOG.log(System.Logger.Level.WARNING, "not prefilling " + req.requestId() + " for " + req.decodeWorkerId() + ": "
                    + cause.getMessage());
            msg.fail(ErrorCode.PEER_REFUSED.code(), cause.getMessage());
        } else {
            msg.fail(ErrorCode.UNAVAILABLE.code(), cause.getMessage());
        }
    }

    private void submit(RemotePrefillMessage.Request req, PeerDirectory.Peer peer, Message<Object> msg, PrefillTrace trace) {
        int layers = engine.kvCache().layout().layers();
        TransferKvExport export;
        try {
            var reservation = new io.tandem.engine.remote.KvReservation(req.requestId(), req.promptTokens(), req.blockTable(), req.cachedTokens());
            export = new TransferKvExport(LayerwiseExportPlan.of(reservation, engine.kvCache().layout().blockSize(), layers),
                    agent, engine.kvCache(), regions, peer, req.fenceToken(), options.prefillTimeoutMillis(), options.layerwise(),
                    metrics, trace);
            inFlight.put(req.requestId(), export);
            if (trace != null) trace.submitted();
            engine.submitPrefill(new EngineRequest(req.requestId(), req.promptTokens(), firstTokenOnly(req.sampling())),
                    new ReplySink(req.requestId(), msg, export, trace), export);
        } catch (EngineRejectedException e) {
            inFlight.remove(req.requestId());
            if (trace != null) trace.failed(e.getMessage());
            msg.fail(e.code().code(), e.getMessage());
            checkDrained();
        } catch (RuntimeException e) {
            inFlight.remove(req.requestId());
            if (trace != null) trace.failed("cannot prefill: " + e.getMessage());
            msg.fail(ErrorCode.INVALID_REQUEST.code(), "cannot prefill " + req.requestId() + ": " + e.getMessage());
            checkDrained();
        }
    }

    /** The prefill computes the prompt and samples one token; the request's own limit applies on the decode worker. */
    private static SamplingParams firstTokenOnly(SamplingParams s) {
        return new SamplingParams(1, s.temperature(), s.topP(), s.topK(), s.minP(), s.seed(), s.presencePenalty(),
                s.frequencyPenalty(), s.stopTokenIds(), true, s.logprobs());
    }

    /**
     * A decode worker gave up on a request (its client cancelled, or it timed out): stop it and stop its transfers; one
     * still loading its peer is never computed.
     */
    public void cancel(String requestId) {
        if (!inFlight.containsKey(requestId) || faults.loseCancel(requestId)) return;
        TransferKvExport export = inFlight.get(requestId);
        if (export == null) {
            cancelledEarly.add(requestId);
            return;
        }
        export.cancel();
        engine.cancel(requestId);
    }

    /** Answers the decode worker from the engine's callbacks (on the engine thread → this context). */
    private final class ReplySink implements TokenSink {
        private final String requestId;
        private final Message<Object> msg;
        private final TransferKvExport export;
        private final PrefillTrace trace;
        private int token = -1;
        private TokenLogprobs logprobs;

        ReplySink(String requestId, Message<Object> msg, TransferKvExport export, PrefillTrace trace) {
            this.trace = trace;
            this.requestId = requestId;
            this.msg = msg;
            this.export = export;
        }

        @Override
        public void onToken(int token, TokenLogprobs logprobs) {
            this.token = token;
            this.logprobs = logprobs;
        }

        @Override
        public void onFinished(FinishReason reason, Usage usage) {
            int first = token;
            TokenLogprobs lp = logprobs;
            context.runOnContext(v -> {
                inFlight.remove(requestId);
                if (first < 0) {
                    if (trace != null) trace.failed("ended (" + reason + ") before its first token");
                    msg.fail(ErrorCode.UNAVAILABLE.code(), "prefill of " + requestId + " ended (" + reason + ") before its first token");
                } else {
                    if (trace != null) trace.replied(export.bytes(), usage.cachedTokens());
                    msg.reply(new RemotePrefillMessage.Result(requestId, first, lp, usage.cachedTokens(), export.bytes()));
                }
                checkDrained();
            });
        }

        @Override
        public void onFailed(ErrorCode code, String message) {
            context.runOnContext(v -> {
                inFlight.remove(requestId);
                if (trace != null) trace.failed(code + ": " + message);
                msg.fail(code.code(), message);
                checkDrained();
            });
        }
    }

    /** Takes nothing new; completes when every held prefill has answered (bounded by the prefill timeout). */
    public Future<Void> drain() {
        stopping = true;
        Future<Void> intake = consumer == null ? Future.succeededFuture() : consumer.unregister();
        drained = Promise.promise();
        checkDrained();
        long timer = vertx.setTimer(options.prefillTimeoutMillis(), id -> {
            if (!drained.future().isComplete()) {
                LOG.log(System.Logger.Level.WARNING, inFlight.size() + " remote prefills did not finish before shutdown");
                drained.tryComplete();
            }
        });
        return Future.join(intake, drained.future()).onComplete(ar -> vertx.cancelTimer(timer)).mapEmpty();
    }

    private void checkDrained() {
        if (drained != null && inFlight.isEmpty()) drained.tryComplete();
    }
}
