package io.tandem.gateway.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.router.RouteChoice;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.tandem.worker.tracing.GenerateTrace;
import io.tandem.worker.tracing.ServiceTracer;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * The gateway's spans of one request: {@code tandem.gateway.request} from its arrival to its last byte (or error),
 * with children {@code tandem.gateway.template} (chat requests), {@code tandem.gateway.tokenize} and one {@code tandem.gateway.route}
 * per routing decision (the chosen worker and how much of the prompt it holds). Every generate message carries the
 * request span's {@code traceparent}, so the worker's spans join the same trace. Exists only when tracing is on.
 */
public final class RequestTrace {

    public static final AttributeKey<String> MODEL = AttributeKey.stringKey("tandem.model");
    public static final AttributeKey<String> API = AttributeKey.stringKey("tandem.api");
    public static final AttributeKey<String> ROUTER = AttributeKey.stringKey("tandem.router");
    public static final AttributeKey<String> PREFILL_PICK = AttributeKey.stringKey("tandem.route.prefill_worker");
    public static final AttributeKey<Long> OVERLAP_BLOCKS = AttributeKey.longKey("tandem.route.overlap_blocks");
    public static final AttributeKey<Long> OVERLAP_TOKENS = AttributeKey.longKey("tandem.route.overlap_tokens");
    public static final AttributeKey<Long> PROMPT_BLOCKS = AttributeKey.longKey("tandem.route.prompt_blocks");
    public static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

    private final ServiceTracer tracer;
    private final Span span;
    private final Context context;
    private boolean ended;

    private RequestTrace(ServiceTracer tracer, Span span) {
        this.tracer = tracer;
        this.span = span;
        this.context = Context.root().with(span);
    }

    /** A request received at {@code receivedNanos} ({@link System#nanoTime()}). */
    public static RequestTrace start(ServiceTracer tracer, String requestId, String model, String api, long receivedNanos) {
        Span span = tracer.startAt("tandem.gateway.request", SpanKind.SERVER, Context.root(), receivedNanos);
        span.setAttribute(GenerateTrace.REQUEST_ID, requestId);
        span.setAttribute(MODEL, model);
        span.setAttribute(API, api);
        return new RequestTrace(tracer, span);
    }

    /** The request span's context: the parent of everything done for it. */
    public Context context() {
        return context;
    }

    /**
     * The request was templated (chat: from {@code startNanos} to {@code templatedNanos}; -1 for a completion, which
     * has no template) and tokenized (then to {@code endNanos}) into {@code promptTokens} tokens (-1: it failed).
     */
    public void preprocessed(long startNanos, long templatedNanos, long endNanos, int promptTokens) {
        long tokenizeFrom = startNanos;
        if (templatedNanos >= 0) {
            tracer.record("tandem.gateway.template", context, startNanos, templatedNanos, Attributes.empty());
            tokenizeFrom = templatedNanos;
        }
        tracer.record("tandem.gateway.tokenize", context, tokenizeFrom, endNanos, promptTokens < 0 ? Attributes.empty()
                : Attributes.of(GenerateTrace.PROMPT_TOKENS, (long) promptTokens));
        if (promptTokens >= 0) span.setAttribute(GenerateTrace.PROMPT_TOKENS, (long) promptTokens);
    }

    /**
     * A routing decision, from {@code startNanos} to now, of the request whose span is {@code parent}: records it and
     * puts {@code parent}'s trace context into the generate message's headers.
     */
    public static void routed(ServiceTracer tracer, Context parent, long startNanos, RouteChoice choice, int blockSize,
                              String router, String attemptId, String prefillPick, DeliveryOptions delivery) {
        var attributes = Attributes.builder()
                .put(GenerateTrace.WORKER_ID, choice.worker().workerId())
                .put(GenerateTrace.REQUEST_ID, attemptId)
                .put(ROUTER, router)
                .put(OVERLAP_BLOCKS, (long) choice.cachedBlocks())
                .put(OVERLAP_TOKENS, (long) choice.cachedBlocks() * Math.max(0, blockSize))
                .put(PROMPT_BLOCKS, (long) choice.promptBlocks());
        if (prefillPick != null) attributes.put(PREFILL_PICK, prefillPick);
        tracer.record("tandem.gateway.route", parent, startNanos, System.nanoTime(), attributes.build());
        tracer.inject(parent, delivery);
    }

    /** The response ended normally. */
    public void finished(FinishReason reason, Usage usage) {
        if (ended) return;
        span.setAttribute(GenerateTrace.FINISH_REASON, reason.name().toLowerCase(java.util.Locale.ROOT));
        span.setAttribute(GenerateTrace.COMPLETION_TOKENS, (long) usage.completionTokens());
        span.setAttribute(GenerateTrace.CACHED_TOKENS, (long) usage.cachedTokens());
        end();
    }

    /** The request failed with {@code error} (the status the client got). */
    public void failed(ApiException error) {
        if (ended) return;
        span.setAttribute(HTTP_STATUS, (long) error.status());
        span.setStatus(StatusCode.ERROR, error.getMessage());
        end();
    }

    /** The client went away first. */
    public void abandoned() {
        if (ended) return;
        span.setStatus(StatusCode.ERROR, "client disconnected");
        end();
    }

    private void end() {
        ended = true;
        span.end();
    }
}
