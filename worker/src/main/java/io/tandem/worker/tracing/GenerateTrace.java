package io.tandem.worker.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.tandem.engine.TokenSink;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;

/**
 * The decode (or both) worker's spans of one generate request: {@code tandem.worker.generate} from the accept to the
 * last token, child of the gateway's route span (the {@code traceparent} of the generate message), and under it
 * {@code tandem.worker.queue} (accept → the engine reserved the prompt's blocks), {@code tandem.worker.prefill} (local:
 * → first token; remote: the round trip to the prefill worker, whose own spans are its children) and
 * {@code tandem.worker.decode} (first token → end). The stamps are taken where the engine already calls out (its sink,
 * the remote-prefill hook): the queue, prefill and decode spans are recorded after the fact, on the verticle's context.
 * Exists only when tracing is on.
 */
public final class GenerateTrace {

    public static final AttributeKey<String> REQUEST_ID = AttributeKey.stringKey("tandem.request.id");
    public static final AttributeKey<String> WORKER_ID = AttributeKey.stringKey("tandem.worker.id");
    public static final AttributeKey<String> ROLE = AttributeKey.stringKey("tandem.worker.role");
    public static final AttributeKey<String> PREFILL_LOCATION = AttributeKey.stringKey("tandem.prefill.location");
    public static final AttributeKey<String> PREFILL_WORKER = AttributeKey.stringKey("tandem.prefill.worker");
    public static final AttributeKey<Long> PROMPT_TOKENS = AttributeKey.longKey("tandem.prompt_tokens");
    public static final AttributeKey<Long> CACHED_TOKENS = AttributeKey.longKey("tandem.cached_tokens");
    public static final AttributeKey<Long> UNCACHED_TOKENS = AttributeKey.longKey("tandem.uncached_tokens");
    public static final AttributeKey<Long> COMPLETION_TOKENS = AttributeKey.longKey("tandem.completion_tokens");
    public static final AttributeKey<Long> TRANSFER_BYTES = AttributeKey.longKey("tandem.kv.transfer_bytes");
    public static final AttributeKey<String> FINISH_REASON = AttributeKey.stringKey("tandem.finish_reason");
    public static final AttributeKey<String> FALLBACK = AttributeKey.stringKey("tandem.prefill.fallback");

    private final ServiceTracer tracer;
    private final Span span;
    private final Context context;
    private final long acceptNanos = System.nanoTime();
    // stamped on the engine thread or the context, read on the context after the terminal call
    private volatile long reservedNanos;
    private volatile long uncachedTokens = -1;
    private volatile long remoteEndNanos;
    private volatile String fallback;
    private volatile long firstTokenNanos;

    private GenerateTrace(ServiceTracer tracer, Span span) {
        this.tracer = tracer;
        this.span = span;
        this.context = Context.root().with(span);
    }

    /** The trace of a generate request that arrived with {@code headers}. */
    public static GenerateTrace start(ServiceTracer tracer, MultiMap headers, String requestId, String workerId, String role,
                                      int promptTokens) {
        Span span = tracer.start("tandem.worker.generate", SpanKind.SERVER, tracer.extract(headers));
        span.setAttribute(REQUEST_ID, requestId);
        span.setAttribute(WORKER_ID, workerId);
        span.setAttribute(ROLE, role);
        span.setAttribute(PROMPT_TOKENS, (long) promptTokens);
        return new GenerateTrace(tracer, span);
    }

    /** The worker refused the request (its span ends at once, as an error). */
    public void refused(String why) {
        span.setStatus(StatusCode.ERROR, why);
        span.end();
    }

    /** The engine reserved the prompt's blocks ({@code uncached} tokens to compute): the queue wait is over. Any thread. */
    public void reserved(int uncached) {
        uncachedTokens = uncached;
        reservedNanos = System.nanoTime();
    }

    /**
     * The remote prefill is sent to {@code prefillWorker}: its span starts now, and its context goes into
     * {@code delivery}'s headers. Call on the context.
     */
    public Span remotePrefillStarted(String prefillWorker, DeliveryOptions delivery) {
        Span remote = tracer.start("tandem.worker.prefill", SpanKind.CLIENT, context);
        remote.setAttribute(PREFILL_LOCATION, "remote");
        remote.setAttribute(PREFILL_WORKER, prefillWorker);
        if (uncachedTokens >= 0) remote.setAttribute(UNCACHED_TOKENS, uncachedTokens);
        tracer.inject(context.with(remote), delivery);
        return remote;
    }

    /** The prefill worker answered ({@code bytes} of KV written), or it failed with {@code reason}: the engine goes on locally. */
    public void remotePrefillEnded(Span remote, long bytes, String reason) {
        remoteEndNanos = System.nanoTime();
        if (reason == null) {
            remote.setAttribute(TRANSFER_BYTES, bytes);
        } else {
            fallback = reason;
            remote.setStatus(StatusCode.ERROR, "fell back to a local prefill: " + reason);
        }
        remote.end();
    }

    /** {@code sink} with this trace's stamps taken on the way; the spans are recorded on {@code vertxContext}. */
    public TokenSink wrap(TokenSink sink, io.vertx.core.Context vertxContext) {
        return new TokenSink() {
            @Override
            public void onToken(int token, TokenLogprobs logprobs) {
                if (firstTokenNanos == 0) firstTokenNanos = System.nanoTime();
                sink.onToken(token, logprobs);
            }

            @Override
            public void onFinished(FinishReason reason, Usage usage) {
                long end = System.nanoTime();
                sink.onFinished(reason, usage);
                vertxContext.runOnContext(v -> finish(end, reason.name().toLowerCase(java.util.Locale.ROOT), usage, null));
            }

            @Override
            public void onFailed(ErrorCode code, String message) {
                long end = System.nanoTime();
                sink.onFailed(code, message);
                vertxContext.runOnContext(v -> finish(end, "failed", null, code + ": " + message));
            }
        };
    }

    private void finish(long end, String reason, Usage usage, String error) {
        long queueEnd = reservedNanos != 0 ? reservedNanos : acceptNanos;
        long first = firstTokenNanos;
        if (reservedNanos != 0) tracer.record("tandem.worker.queue", context, acceptNanos, queueEnd, Attributes.empty());
        boolean remote = remoteEndNanos != 0;
        if (first != 0 && (!remote || fallback != null)) { // local, or local after the remote one failed
            var local = Attributes.builder().put(PREFILL_LOCATION, "local");
            if (uncachedTokens >= 0) local.put(UNCACHED_TOKENS, uncachedTokens);
            if (fallback != null) local.put(FALLBACK, fallback);
            tracer.record("tandem.worker.prefill", context, remote ? remoteEndNanos : queueEnd, first, local.build());
        }
        if (first != 0) tracer.record("tandem.worker.decode", context, first, end, Attributes.empty());
        span.setAttribute(FINISH_REASON, reason);
        if (usage != null) {
            span.setAttribute(CACHED_TOKENS, (long) usage.cachedTokens());
            span.setAttribute(COMPLETION_TOKENS, (long) usage.completionTokens());
        }
        if (error != null) span.setStatus(StatusCode.ERROR, error);
        tracer.endAt(span, end);
    }
}
