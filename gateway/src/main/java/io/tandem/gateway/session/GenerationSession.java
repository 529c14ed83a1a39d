package io.tandem.gateway.session;

import io.tandem.gateway.tracing.RequestTrace;
import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.dispatch.StreamListener;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.postprocess.OutputText;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.gateway.slo.SloTargets;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.vertx.core.Vertx;

/**
 * One generation request as its client sees it, whatever the transport (HTTP+SSE, JSON, gRPC): turns the worker's
 * tokens into text ({@link OutputText}: detokenize, stop strings), keeps honest usage, the latency metrics and the
 * request deadline, and hands output to the transport's subclass. Everything runs on the request's event loop.
 *
 * <p>When the generation migrates to another worker the session does not notice: its text decoder, stop-string
 * matcher, logprobs and token counts simply go on with the tokens that follow.
 */
public abstract class GenerationSession implements StreamListener {

    private final GatewayMetrics metrics;
    private final OutputText output;
    private final long startNanos = System.nanoTime();
    private final Vertx vertx;
    private final long deadlineTimer;
    private long lastTokenNanos = -1;
    private int promptTokens;
    private long receivedTokens;
    protected GenerationStream stream;
    private boolean finished;
    /** Credits of tokens written while the client's write queue was full: given back to the worker once it drains. */
    private int heldCredits;
    /** Null unless traced. */
    private RequestTrace trace;
    private SloTargets slo = SloTargets.NONE;
    private long firstTokenNanos = -1;

    /** @param output how this request's tokens become text (its detokenizer and stop strings) */
    protected GenerationSession(Vertx vertx, OutputText output, GatewayMetrics metrics, long maxRequestMillis) {
        this.vertx = vertx;
        this.output = output;
        this.metrics = metrics;
        metrics.generationStarted();
        this.deadlineTimer = vertx.setTimer(maxRequestMillis, t -> {
            if (finished) return;
            if (stream != null) stream.cancel("request deadline");
            fail(ApiException.timeout("The request did not finish within " + maxRequestMillis + " ms"));
        });
    }

    /**
     * How a request's tokens become text: the model's incremental detokenizer (a chat answer starts a text of its own)
     * and the request's stop strings.
     */
    public static OutputText outputText(CompletionRequest request, ServedModel model) {
        ServedModel.TextDecoder decoder = model.newDecoder(request.endpoint() == Endpoint.CHAT);
        return new OutputText(decoder::push, decoder::flush, request.stop());
    }

    /** The request's latency objectives (from its headers or body, else the gateway's defaults). */
    public void slo(SloTargets objectives) {
        this.slo = objectives;
    }

    public SloTargets slo() {
        return slo;
    }

    /** This request is traced: its span ends with the session. */
    public void traced(RequestTrace trace) {
        this.trace = trace;
    }

    /** The prompt is tokenized; its length is the fallback prompt count. */
    public void prepared(int promptTokens) {
        this.promptTokens = promptTokens;
    }

    /** The dispatcher holds the request (maybe queued): a client that leaves now takes it out at once. */
    public void dispatched(GenerationStream stream) {
        this.stream = stream;
    }

    /** The prompt's tokens (as tokenized here). */
    /**
     * Flow control end to end: the worker's credits for {@code tokens} just written go back to it at once, or, when
     * {@code queueFull}, once the client's write queue drains ({@code whenDrained} registers that action with the
     * transport). A client that stops reading so stops the worker after its credits, holding its KV, not the gateway's heap.
     */
    protected final void grantAfterWrite(int tokens, boolean queueFull, java.util.function.Consumer<Runnable> whenDrained) {
        if (!queueFull) {
            stream.grant(tokens);
            return;
        }
        if (heldCredits == 0) {
            whenDrained.accept(() -> {
                int credits = heldCredits;
                heldCredits = 0;
                if (!finished) stream.grant(credits);
            });
        }
        heldCredits += tokens;
    }

    protected int promptTokens() {
        return promptTokens;
    }

    /** Tokens received from the worker(s) so far. */
    protected long receivedTokens() {
        return receivedTokens;
    }

    public boolean isFinished() {
        return finished;
    }

    @Override
    public void onAccepted(GenerationStream stream) {
        this.stream = stream;
        if (finished) {
            stream.cancel("client disconnected");
            return;
        }
        accepted();
    }

    @Override
    public void onTokens(int[] tokens, TokenLogprobs[] lps) {
        if (finished) return;
        long now = System.nanoTime();
        if (lastTokenNanos < 0) {
            metrics.timeToFirstToken(now - startNanos);
            firstTokenNanos = now;
        }
        else for (int i = 0; i < tokens.length; i++) metrics.interTokenLatency((now - lastTokenNanos) / tokens.length);
        lastTokenNanos = now;
        receivedTokens += tokens.length;

        int before = output.consumedTokens();
        OutputText.Delta delta = output.push(tokens);
        int consumed = output.consumedTokens() - before;
        if (lps != null) {
            for (int i = 0; i < consumed && i < lps.length; i++) logprob(lps[i]);
        }
        emit(delta.text(), tokens, consumed);
        if (delta.stopped()) stream.stopEarly();
    }

    @Override
    public void onFinished(FinishReason reason, Usage usage) {
        if (finished) return;
        String tail = output.finish();
        FinishReason finishReason;
        if (output.stopped()) {
            finishReason = FinishReason.STOP;
        } else if (reason == FinishReason.CANCELLED) {
            fail(ApiException.unavailable("The worker cancelled the request", 1));
            return;
        } else {
            finishReason = reason;
        }
        Usage honest = new Usage(
                usage != null ? usage.promptTokens() : promptTokens,
                output.stopped() || usage == null ? Math.toIntExact(output.stopped() ? output.consumedTokens() : receivedTokens)
                        : usage.completionTokens(),
                usage != null ? usage.cachedTokens() : 0);
        metrics.tokens(honest.promptTokens(), honest.completionTokens());
        if (slo.any()) metrics.slo().finished(slo, (firstTokenNanos - startNanos) / 1e6, meanTimePerOutputTokenMillis());
        metrics.arrivals().record(honest.promptTokens(), honest.cachedTokens(), honest.completionTokens());
        if (trace != null) trace.finished(finishReason, honest);
        markFinished();
        complete(tail, finishReason, honest);
    }

    @Override
    public void onFailed(ApiException error) {
        fail(error);
    }

    /** Fails the request (before or after a worker accepted it). */
    public final void fail(ApiException error) {
        if (finished) return;
        if (trace != null) trace.failed(error);
        if ("slo_unattainable".equals(error.code())) metrics.slo().rejected();
        if ((error.status() == 429 || error.status() == 503) && promptTokens > 0) metrics.arrivals().refused(promptTokens);
        else if (error.status() >= 500 || error.status() == 429) metrics.slo().failed(slo); // the client's own errors aside
        markFinished();
        sendError(error);
    }

    /** The client went away: the generation is cancelled wherever it is (its KV cache is freed on the worker). */
    public final void clientGone() {
        if (finished) return;
        if (trace != null) trace.abandoned();
        markFinished();
        if (stream != null) stream.cancel("client disconnected");
    }

    /** Mean time between output tokens after the first (NaN with fewer than two tokens, or none seen). */
    private double meanTimePerOutputTokenMillis() {
        if (firstTokenNanos < 0 || receivedTokens < 2) return Double.NaN;
        return (lastTokenNanos - firstTokenNanos) / 1e6 / (receivedTokens - 1);
    }

    private void markFinished() {
        finished = true;
        vertx.cancelTimer(deadlineTimer);
        metrics.generationEnded();
    }

    /** A worker accepted: a stream may send its headers now. */
    protected abstract void accepted();

    /**
     * The logprobs of one generated token that made it into the text (a token after a stop string does not);
     * called before the {@link #emit} of its tokens. Ignored unless overridden.
     */
    protected void logprob(TokenLogprobs logprobs) {
    }

    /**
     * New text (maybe empty) from {@code tokens}, of which the first {@code consumed} made it into the text (the
     * others came after a stop string). The subclass grants the worker {@code tokens.length} credits back once its
     * client took them.
     */
    protected abstract void emit(String text, int[] tokens, int consumed);

    /** The end: last text, finish reason ({@link FinishReason#STOP} or {@link FinishReason#LENGTH}) and usage. */
    protected abstract void complete(String tail, FinishReason finishReason, Usage usage);

    /** Tells the client the request failed (the session is finished already). */
    protected abstract void sendError(ApiException error);
}
