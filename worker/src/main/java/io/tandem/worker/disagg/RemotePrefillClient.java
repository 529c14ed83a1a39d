package io.tandem.worker.disagg;

import io.tandem.engine.remote.DisaggregatedEngine;
import io.tandem.engine.remote.KvReservation;
import io.tandem.engine.remote.RemotePrefill;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.RemotePrefillMessage;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.registry.WorkerRegistry;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.WriteFences;
import io.tandem.worker.tracing.GenerateTrace;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The decode role's side of disaggregation. For each request the engine reserves the prompt's blocks, then asks
 * {@link #begin}: a prompt with more than {@code max_local_prefill_tokens} uncached tokens goes to a live prefill
 * worker whose queue is below its limit (the router's pick when it named one, else the least loaded); the prefill
 * worker's answer completes the prefill, anything else — no prefill worker, a full queue, a layout mismatch, a
 * transfer error, a timeout — makes the engine prefill locally. Thread-safe: the engine calls it on its thread, the
 * replies come on the worker's context.
 */
public final class RemotePrefillClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RemotePrefillClient.class.getName());

    private final Vertx vertx;
    private final Context context;
    private final WorkerRegistry registry;
    private final DisaggregatedEngine engine;
    private final String workerId;
    private final String model;
    private final DisaggregationOptions options;
    private final TransferMetrics metrics;
    /** Remote prefills sent and not yet answered, by request id. */
    private final Map<String, PerRequest> pending = new ConcurrentHashMap<>();
    private final AutoCloseable registryListener;
    private final WriteFences fences;
    private final int[][] regions;
    private final long epoch;
    private final long blockBytes;
    private final int blockSize;
    /** Fencing tokens, never reused: random start, then counting up (0 means unfenced). */
    private final AtomicLong tokens = new AtomicLong(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE / 2));

    /**
     * @param fences  this worker's transfer agent's write fences: each reservation's blocks are granted to its own token
     *                and revoked when it ends, so a late write can never land in blocks given to someone else
     * @param regions the agent region of each layer's K and V arena ({@code [layer][0|1]})
     * @param epoch   this worker's epoch, sent so the prefill worker writes only into this start's memory
     */
    public RemotePrefillClient(Vertx vertx, Context context, WorkerRegistry registry, DisaggregatedEngine engine,
                               String workerId, String model, DisaggregationOptions options, TransferMetrics metrics,
                               WriteFences fences, int[][] regions, long epoch) {
        this.fences = fences;
        this.regions = regions;
        this.epoch = epoch;
        this.blockBytes = engine.kvCache().layout().blockBytes();
        this.blockSize = engine.kvCache().layout().blockSize();
        this.vertx = vertx;
        this.context = context;
        this.registry = registry;
        this.engine = engine;
        this.workerId = workerId;
        this.model = model;
        this.options = options;
        this.metrics = metrics;
        // a prefill worker that died answers nothing: fail its prefills as soon as it leaves, not at the timeout
        this.registryListener = registry.onChange(e -> {
            // a worker that deregistered is shutting down and finishes what it holds: its answers still come
            if (e instanceof io.tandem.registry.WorkerEvent.Removed r && r.worker().role() == WorkerRole.PREFILL
                    && r.cause() != io.tandem.registry.WorkerEvent.Cause.DEREGISTERED) {
                for (PerRequest p : pending.values()) {
                    if (r.worker().workerId().equals(p.prefillWorker)) p.fallBack("prefill_worker_lost", "prefill worker left the cluster (" + r.cause() + ")");
                }
            }
        });
    }

    @Override
    public void close() {
        try {
            registryListener.close();
        } catch (Exception ignored) {
            // nothing to undo
        }
    }

    /** The remote-prefill decision and hand-off of one request; {@code hint} is the router's prefill pick, or null. */
    public RemotePrefill forRequest(SamplingParams sampling, String hint) {
        return new PerRequest(sampling, hint, null);
    }

    /** As {@link #forRequest(SamplingParams, String)}, recording the prefill into {@code trace} (null: untraced). */
    public RemotePrefill forRequest(SamplingParams sampling, String hint, GenerateTrace trace) {
        return new PerRequest(sampling, hint, trace);
    }

    /** The prefill worker to use, or empty with the reason recorded. */
    Optional<WorkerRecord> choosePrefillWorker(String hint) {
        io.tandem.protocol.ClusterContract own = registry.worker(workerId).map(WorkerRecord::contract).orElse(null);
        List<WorkerRecord> pool = registry.liveWorkers(model).stream() // a draining prefill worker takes nothing new
                .filter(w -> w.role() == WorkerRole.PREFILL && !w.workerId().equals(workerId) && !w.load().draining())
                .toList();
        if (pool.isEmpty()) {
            metrics.fellBack("no_prefill_worker");
            return Optional.empty();
        }
        // only prefill workers that can write KV this worker reads (same model file, block size, dtype, layout, protocol)
        pool = pool.stream().filter(w -> own != null && own.canExchangeKv(w.contract())).toList();
        if (pool.isEmpty()) {
            metrics.fellBack("contract_mismatch");
            return Optional.empty();
        }
        List<WorkerRecord> open = pool.stream().filter(w -> queued(w) < options.maxPrefillQueue()).toList();
        if (open.isEmpty()) {
            metrics.fellBack("queue_full");
            return Optional.empty();
        }
        if (hint != null) {
            for (WorkerRecord w : open) if (w.workerId().equals(hint)) return Optional.of(w);
        }
        return open.stream().min(Comparator.comparingInt(RemotePrefillClient::queued));
    }

    private static int queued(WorkerRecord w) {
        return w.load().runningRequests() + w.load().waitingRequests();
    }

    private final class PerRequest implements RemotePrefill {
        private final SamplingParams sampling;
        private final String hint;
        private final GenerateTrace trace;
        private volatile String prefillWorker;
        private volatile String requestId;
        private volatile long token;
        private final AtomicBoolean settled = new AtomicBoolean();

        PerRequest(SamplingParams sampling, String hint, GenerateTrace trace) {
            this.sampling = sampling;
            this.hint = hint;
            this.trace = trace;
        }

        @Override
        public boolean begin(KvReservation r) {
            if (trace != null) trace.reserved(r.uncachedTokens());
            if (r.uncachedTokens() <= options.maxLocalPrefillTokens()) {
                metrics.prefilled("local");
                return false;
            }
            Optional<WorkerRecord> target = choosePrefillWorker(hint);
            if (target.isEmpty()) {
                metrics.prefilled("local");
                return false;
            }
            prefillWorker = target.get().workerId();
            requestId = r.requestId();
            token = tokens.getAndIncrement();
            fences.grant(token, grantedRanges(r));
            metrics.prefilled("remote");
            pending.put(r.requestId(), this);
            var request = new RemotePrefillMessage.Request(r.requestId(), r.promptTokens(), sampling, workerId,
                    r.blockTable(), r.cachedTokens(), epoch, token);
            context.runOnContext(v -> send(request, prefillWorker));
            return true;
        }

        private void send(RemotePrefillMessage.Request request, String target) {
            DeliveryOptions delivery = new DeliveryOptions().setSendTimeout(options.prefillTimeoutMillis());
            io.opentelemetry.api.trace.Span span = trace == null ? null : trace.remotePrefillStarted(target, delivery);
            vertx.eventBus().<Object>request(Addresses.prefill(target), request, delivery)
                    .andThen(ar -> {
                        if (span == null) return;
                        if (ar.succeeded() && ar.result().body() instanceof RemotePrefillMessage.Result res) {
                            trace.remotePrefillEnded(span, res.transferredBytes(), null);
                        } else {
                            trace.remotePrefillEnded(span, 0, ar.failed() ? reason(ar.cause()) : "error");
                        }
                    })
                    .onSuccess(reply -> {
                        if (!(reply.body() instanceof RemotePrefillMessage.Result res)) {
                            fallBack("error", "unexpected reply " + reply.body());
                        } else if (settle()) {
                            afterRevoke(() -> engine.completeRemotePrefill(request.requestId(), res.firstToken(), res.logprobs()));
                        }
                    })
                    .onFailure(e -> fallBack(reason(e), e.getMessage()));
        }

        /** True for the first outcome only (the reply, its timeout, or the prefill worker leaving). */
        private boolean settle() {
            if (!settled.compareAndSet(false, true)) return false;
            pending.remove(requestId, this);
            return true;
        }

        /**
         * The remote prefill failed, timed out, or its worker left: stop its writes (revoke the token, tell the prefill
         * worker), and once no write of it can still land, prefill locally in the same blocks.
         */
        void fallBack(String reason, String message) {
            if (!settle()) return;
            metrics.fellBack(reason);
            LOG.log(System.Logger.Level.INFO, "remote prefill of " + requestId + " on " + prefillWorker + " failed ("
                    + message + "); prefilling locally");
            if (reason.equals("timeout")) tellPrefillWorker("the decode worker timed out");
            afterRevoke(() -> engine.failRemotePrefill(requestId, message));
        }

        /** The client went away while its KV was computed remotely: stop the prefill worker and end once nothing writes. */
        @Override
        public void cancel(String requestId) {
            if (prefillWorker == null) return;
            tellPrefillWorker("the client cancelled");
            if (settle()) afterRevoke(() -> engine.failRemotePrefill(requestId, "cancelled"));
        }

        private void tellPrefillWorker(String why) {
            String target = prefillWorker;
            context.runOnContext(v -> vertx.eventBus().send(Addresses.control(target), new ControlMessage.Cancel(requestId, why)));
        }

        /**
         * Revokes the reservation's token (every outcome, success included), then runs {@code next} once no write of it
         * is in flight: from then on the blocks are the engine's alone, whatever a late prefill worker still sends.
         */
        private void afterRevoke(Runnable next) {
            CompletableFuture<Void> revoked = fences.revoke(token);
            if (!revoked.isDone()) {
                vertx.setTimer(options.prefillTimeoutMillis(), t -> {
                    if (!revoked.isDone()) LOG.log(System.Logger.Level.WARNING, "a write of " + requestId + " by " + prefillWorker
                            + " is still in flight after " + options.prefillTimeoutMillis() + " ms; its blocks stay reserved until it ends");
                });
            }
            revoked.whenComplete((v, e) -> next.run());
        }
    }

    /**
     * What a prefill worker may write for a reservation: every layer's K and V bytes of the blocks past the decode
     * worker's own prefix hit (consecutive blocks merged).
     */
    List<MemoryDescriptor> grantedRanges(KvReservation r) {
        int[] table = r.blockTable();
        int first = r.cachedTokens() / blockSize, last = (r.promptTokens().length + blockSize - 1) / blockSize;
        List<MemoryDescriptor> out = new ArrayList<>();
        for (int[] layer : regions) {
            for (int region : layer) {
                int i = first;
                while (i < last) {
                    int j = i + 1;
                    while (j < last && table[j] == table[j - 1] + 1) j++;
                    out.add(new MemoryDescriptor(region, table[i] * blockBytes, (j - i) * blockBytes));
                    i = j;
                }
            }
        }
        return out;
    }

    /** A metric label for why a remote prefill failed. */
    static String reason(Throwable e) {
        if (e instanceof ReplyException re) {
            if (re.failureType() == ReplyFailure.TIMEOUT) return "timeout";
            if (re.failureType() == ReplyFailure.NO_HANDLERS) return "unavailable";
            if (re.failureCode() == ErrorCode.OVERLOADED.code()) return "queue_full";
            if (re.failureCode() == ErrorCode.UNAVAILABLE.code()) return "unavailable";
            if (re.failureCode() == ErrorCode.DRAINING.code()) return "draining";
            if (re.failureCode() == ErrorCode.PEER_REFUSED.code()) return "peer_refused";
        }
        return "error";
    }
}
