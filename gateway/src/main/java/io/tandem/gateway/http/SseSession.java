package io.tandem.gateway.http;

import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.ResponseShapes;
import io.tandem.gateway.metrics.GatewayMetrics;
import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * A streamed response: one SSE event per token message, flushed at once. Credits go back to
 * the worker only while the client keeps up; when the response's write queue is full they wait
 * for its drain handler, so the worker pauses and the gateway holds at most one credit window.
 */
final class SseSession extends CompletionSession {

    private final int writeQueueBytes;

    SseSession(Vertx vertx, HttpServerResponse response, CompletionRequest request, ServedModel model, String id,
               GatewayMetrics metrics, HttpSettings settings) {
        super(vertx, response, request, model, id, metrics, settings.maxRequestMillis());
        this.writeQueueBytes = settings.sseWriteQueueBytes();
    }

    @Override
    protected void accepted() {
        response.setChunked(true)
                .putHeader(HttpHeaders.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader("X-Accel-Buffering", "no");
        if (writeQueueBytes > 0) response.setWriteQueueMaxSize(writeQueueBytes);
        if (request.endpoint() == Endpoint.CHAT) write(ResponseShapes.roleChunk(meta));
        else response.writeHead();
    }

    @Override
    protected void emit(String text, int[] ids, int consumed) {
        int tokens = ids.length;
        JsonObject lps = logprobs.drain();
        if (!text.isEmpty() || lps != null) write(running(ResponseShapes.textChunk(meta, text, lps), receivedTokens()));
        grantAfterWrite(tokens, response.writeQueueFull(), grant -> response.drainHandler(v -> grant.run()));
    }

    @Override
    protected void complete(String tail, FinishReason finishReason, Usage usage) {
        JsonObject lps = logprobs.drain();
        if (!tail.isEmpty() || lps != null) write(running(ResponseShapes.textChunk(meta, tail, lps), usage.completionTokens()));
        write(running(ResponseShapes.finishChunk(meta, finishReason.openAiName()), usage.completionTokens()));
        if (meta.usageInChunks()) write(ResponseShapes.usageChunk(meta, usage));
        response.end(Sse.DONE);
    }

    /** With continuous usage stats the chunk tells the tokens so far, so clients can count tokens per chunk. */
    private JsonObject running(JsonObject chunk, long completionTokens) {
        return request.continuousUsage() ? ResponseShapes.withRunningUsage(chunk, promptTokens(), completionTokens) : chunk;
    }

    private void write(JsonObject event) {
        response.write(Sse.event(event));
    }
}
