package io.tandem.gateway.dispatch;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.router.RouteRequest;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * One client request's generation, as the HTTP side holds it: a single uninterrupted token stream even when the
 * worker serving it dies, stalls or drains. It runs one {@link WorkerAttempt} at a time; when an attempt fails with a
 * {@link MigrationReason}, the {@link Dispatcher} starts another on a worker the router picks, with the tokens
 * delivered so far as {@code resumedTokens} — the new worker continues the same sequence (same penalties, same place
 * in the seeded random stream), so the client sees no duplicate and no gap. The HTTP side keeps the state that
 * lives above the tokens (stop strings, logprobs, usage), so it carries across by itself.
 *
 * <p>Lives on the dispatcher's event loop; every method must be called there.
 */
public final class GenerationStream implements WorkerAttempt.Listener {

    /** Where a generation stands. */
    enum State { DISPATCHING, QUEUED, STREAMING, DONE }

    final String requestId;
    final String model;
    final int[] promptTokens;
    final SamplingParams sampling;
    final int priority;
    private final Dispatcher dispatcher;
    private final StreamListener listener;
    private final Promise<GenerationStream> acceptance = Promise.promise();

    private int[] delivered = new int[16];
    private int deliveredCount;
    private WorkerAttempt attempt;
    private State state = State.DISPATCHING;
    private int migrations;
    private boolean stopping;

    // the current dispatch round (reset when a migration starts one)
    RouteRequest route;
    int routeBlockSize;
    final Set<String> tried = new HashSet<>();
    int attempts;
    ApiException lastError;
    /** Whether this round may wait in the queue when no worker is available at all (a migration may: its worker
     *  may be restarting); a fresh request waits only for busy workers. */
    boolean waitsForAnyWorker;
    long queuedAtNanos = -1;
    long queueTimer = -1;
    /** When the gateway received the request ({@link System#nanoTime()}), and how long it waited in the queue since. */
    long receivedNanos;
    long queuedNanos;
    /** Arrival order among requests of equal priority. */
    long arrival;
    /** Attempts started so far, all rounds: names the next attempt. */
    int attemptSerial;
    /** The request's latency objectives (TTFT routes and admits it). */
    io.tandem.gateway.slo.SloTargets slo = io.tandem.gateway.slo.SloTargets.NONE;
    /** The request's trace context (its gateway span), null when not traced. */
    io.opentelemetry.context.Context traceContext;

    GenerationStream(Dispatcher dispatcher, String requestId, String model, int[] promptTokens, SamplingParams sampling,
                     int priority, StreamListener listener) {
        this.dispatcher = dispatcher;
        this.requestId = requestId;
        this.model = model;
        this.promptTokens = promptTokens;
        this.sampling = sampling;
        this.priority = priority;
        this.listener = listener;
    }

    /**
     * Succeeds once the first worker accepted (the listener's {@code onAccepted} came first), or fails with the
     * {@link ApiException} the client should get.
     */
    public Future<GenerationStream> acceptance() {
        return acceptance.future();
    }

    /** The id the current worker knows the request by (the request id, with a suffix after a retry or migration). */
    public String requestId() {
        return attempt == null ? requestId : attempt.requestId();
    }

    /** The worker serving the request now, or null while it waits for one. */
    public String workerId() {
        return attempt == null ? null : attempt.worker().workerId();
    }

    /** Tokens delivered to the listener so far, across every worker that served the request. */
    public long receivedTokens() {
        return deliveredCount;
    }

    /** Tokens the current worker may still send before it must wait for credit (0 while no worker serves it). */
    public long workerCredits() {
        return attempt == null ? 0 : attempt.workerCredits();
    }

    /** How often the request moved to another worker. */
    public int migrations() {
        return migrations;
    }

    public boolean isDone() {
        return state == State.DONE;
    }

    /** The attempt serving the request now, or null. */
    WorkerAttempt attempt() {
        return attempt;
    }

    State state() {
        return state;
    }

    void state(State s) {
        state = s;
    }

    /** The tokens the next worker resumes after. */
    int[] deliveredTokens() {
        return Arrays.copyOf(delivered, deliveredCount);
    }

    /** The client took {@code tokens} more tokens: the current worker may send as many more. */
    public void grant(int tokens) {
        if (attempt != null) attempt.grant(tokens);
    }

    /** The client's text ended at a stop string: stop the worker; {@code onFinished} follows. */
    public void stopEarly() {
        if (state == State.DONE || stopping) return;
        stopping = true;
        if (attempt != null && state == State.STREAMING) {
            attempt.stopEarly();
        } else {
            // between workers: nothing runs that could report usage
            dispatcher.abandon(this);
            finish(FinishReason.CANCELLED, null);
        }
    }

    /** The client went away (or the gateway stops): cancel wherever the request is, no callbacks. */
    public void cancel(String reason) {
        if (state == State.DONE) return;
        state = State.DONE;
        dispatcher.abandon(this);
        if (attempt != null) attempt.cancel(reason);
        dispatcher.ended(this);
        acceptance.tryFail(ApiException.unavailable("The request was cancelled: " + reason, 0));
    }

    /** A worker accepted {@code a}: it serves the request from now on. */
    void attached(WorkerAttempt a) {
        attempt = a;
        state = State.STREAMING;
        boolean first = acceptance.tryComplete(this);
        if (first) {
            dispatcher.admitted(this);
            listener.onAccepted(this);
        }
        a.accepted(this);
    }

    /** No worker took the request: it ends with {@code error}. */
    void failed(ApiException error) {
        if (state == State.DONE) return;
        state = State.DONE;
        dispatcher.ended(this);
        if (!acceptance.tryFail(error)) listener.onFailed(error);
    }

    @Override
    public void onTokens(int[] tokens, TokenLogprobs[] logprobs) {
        if (deliveredCount + tokens.length > delivered.length) {
            delivered = Arrays.copyOf(delivered, Math.max(delivered.length * 2, deliveredCount + tokens.length));
        }
        System.arraycopy(tokens, 0, delivered, deliveredCount, tokens.length);
        deliveredCount += tokens.length;
        listener.onTokens(tokens, logprobs);
    }

    @Override
    public void onFinished(FinishReason reason, Usage usage) {
        finish(reason, usage);
    }

    @Override
    public void onFailed(ApiException error, MigrationReason migration) {
        if (state == State.DONE) return;
        String from = attempt.worker().workerId();
        attempt = null;
        if (stopping) {
            finish(FinishReason.CANCELLED, null);
            return;
        }
        if (migration == null) {
            failed(error);
            return;
        }
        if (deliveredCount >= sampling.maxTokens()) { // every token arrived; only the worker's final word is missing
            finish(FinishReason.LENGTH, null);
            return;
        }
        int limit = dispatcher.options.migrationLimit();
        if (migrations >= limit) {
            failed(limit == 0 ? error : error.withNote(" (the request already moved to another worker " + migrations
                    + " time(s), the migration limit)"));
            return;
        }
        migrations++;
        dispatcher.migrate(this, from, migration);
    }

    private void finish(FinishReason reason, Usage usage) {
        if (state == State.DONE) return;
        state = State.DONE;
        dispatcher.ended(this);
        listener.onFinished(reason, usage);
    }

    @Override
    public String toString() {
        return "GenerationStream[" + requestId + ", " + state + ", " + deliveredCount + " tokens, " + migrations
                + " migration(s)]";
    }
}
