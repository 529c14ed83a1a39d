package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.LogprobsShaper;
import io.tandem.gateway.api.ResponseShapes;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.dispatch.StreamListener;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.postprocess.OutputText;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;

/**
 * One generation request as the client sees it: turns the worker's tokens into text (detokenize,
 * stop strings), keeps honest usage and the latency metrics, and hands output to the
 * streaming or buffered subclass. Everything runs on the request's event loop.
 *
 * <p>When the generation migrates to another worker the session does not notice: its text decoder, stop-string
 * matcher, logprobs and token counts simply go on with the tokens that follow.
 */
abstract class CompletionSession implements StreamListener {

    protected final HttpServerResponse response;
    protected final CompletionRequest request;
    protected final ResponseShapes.Meta meta;
    protected final LogprobsShaper logprobs;
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

    CompletionSession(Vertx vertx, HttpServerResponse response, CompletionRequest request, ServedModel model,
                      String id, GatewayMetrics metrics, long maxRequestMillis) {
        this.vertx = vertx;
        this.response = response;
        this.request = request;
        this.metrics = metrics;
        this.meta = new ResponseShapes.Meta(request.endpoint(), id, System.currentTimeMillis() / 1000, model.name(),
                request.stream() && request.includeUsage());
        this.logprobs = new LogprobsShaper(request.endpoint(), model::piece, request.tokensAsIds());
        ServedModel.TextDecoder decoder = model.newDecoder(request.endpoint() == Endpoint.CHAT);
        this.output = new OutputText(decoder::push, decoder::flush, request.stop());
        metrics.generationStarted();
        response.closeHandler(v -> clientGone());
        this.deadlineTimer = vertx.setTimer(maxRequestMillis, t -> {
            if (finished) return;
            if (stream != null) stream.cancel("request deadline");
            fail(ApiException.timeout("The request did not finish within " + maxRequestMillis + " ms"));
        });
    }

    /** The prompt is tokenized; its length is the fallback prompt count. */
    void prepared(int promptTokens) {
        this.promptTokens = promptTokens;
    }

    /** The dispatcher holds the request (maybe queued): a client that leaves now takes it out at once. */
    void dispatched(GenerationStream stream) {
        this.stream = stream;
    }

    /** The prompt's tokens (as tokenized here). */
    protected int promptTokens() {
        return promptTokens;
    }

    /** Tokens received from the worker(s) so far. */
    protected long receivedTokens() {
        return receivedTokens;
    }

    boolean isFinished() {
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
        if (lastTokenNanos < 0) metrics.timeToFirstToken(now - startNanos);
        else for (int i = 0; i < tokens.length; i++) metrics.interTokenLatency((now - lastTokenNanos) / tokens.length);
        lastTokenNanos = now;
        receivedTokens += tokens.length;

        int before = output.consumedTokens();
        OutputText.Delta delta = output.push(tokens);
        int consumed = output.consumedTokens() - before;
        if (lps != null && request.wantsLogprobs()) {
            for (int i = 0; i < consumed && i < lps.length; i++) logprobs.add(lps[i]);
        }
        emit(delta.text(), tokens.length);
        if (delta.stopped()) stream.stopEarly();
    }

    @Override
    public void onFinished(FinishReason reason, Usage usage) {
        if (finished) return;
        String tail = output.finish();
        String finishReason;
        if (output.stopped()) {
            finishReason = FinishReason.STOP.openAiName();
        } else if (reason == FinishReason.CANCELLED) {
            fail(ApiException.unavailable("The worker cancelled the request", 1));
            return;
        } else {
            finishReason = reason.openAiName();
        }
        Usage honest = new Usage(
                usage != null ? usage.promptTokens() : promptTokens,
                output.stopped() || usage == null ? Math.toIntExact(output.stopped() ? output.consumedTokens() : receivedTokens)
                        : usage.completionTokens(),
                usage != null ? usage.cachedTokens() : 0);
        metrics.tokens(honest.promptTokens(), honest.completionTokens());
        markFinished();
        complete(tail, finishReason, honest);
    }

    @Override
    public void onFailed(ApiException error) {
        fail(error);
    }

    /** Fails the request (before or after a worker accepted it). */
    final void fail(ApiException error) {
        if (finished) return;
        markFinished();
        Errors.send(response, error);
    }

    private void clientGone() {
        if (finished) return;
        markFinished();
        if (stream != null) stream.cancel("client disconnected");
    }

    private void markFinished() {
        finished = true;
        vertx.cancelTimer(deadlineTimer);
        metrics.generationEnded();
    }

    /** A worker accepted: a stream may send its headers now. */
    protected abstract void accepted();

    /** New text (maybe empty) made of {@code tokens} tokens; the subclass grants their credit back. */
    protected abstract void emit(String text, int tokens);

    /** The end: last text, finish reason and usage. */
    protected abstract void complete(String tail, String finishReason, Usage usage);
}
