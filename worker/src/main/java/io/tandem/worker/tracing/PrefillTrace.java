package io.tandem.worker.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.vertx.core.MultiMap;

/**
 * The prefill worker's spans of one remote prefill: {@code tandem.prefill.request} from the request to the reply, child
 * of the decode worker's remote prefill span (the {@code traceparent} of the request message), and under it
 * {@code tandem.prefill.compute} (submitted to the engine → its last forward pass and sends settled) and one
 * {@code tandem.kv.transfer} per WRITE posted to the transfer agent (bytes, backend, layer), recorded when the WRITE
 * settles, on whichever thread completes it. Exists only when tracing is on.
 */
public final class PrefillTrace {

    public static final AttributeKey<String> DECODE_WORKER = AttributeKey.stringKey("tandem.decode.worker");
    public static final AttributeKey<String> BACKEND = AttributeKey.stringKey("tandem.kv.backend");
    public static final AttributeKey<Long> BYTES = AttributeKey.longKey("tandem.kv.bytes");
    public static final AttributeKey<Long> LAYER = AttributeKey.longKey("tandem.kv.layer");

    private final ServiceTracer tracer;
    private final Span span;
    private final Context context;
    private long submittedNanos;

    private PrefillTrace(ServiceTracer tracer, Span span) {
        this.tracer = tracer;
        this.span = span;
        this.context = Context.root().with(span);
    }

    public static PrefillTrace start(ServiceTracer tracer, MultiMap headers, String requestId, String workerId,
                                     String decodeWorker, int promptTokens, int cachedTokens) {
        Span span = tracer.start("tandem.prefill.request", SpanKind.SERVER, tracer.extract(headers));
        span.setAttribute(GenerateTrace.REQUEST_ID, requestId);
        span.setAttribute(GenerateTrace.WORKER_ID, workerId);
        span.setAttribute(GenerateTrace.ROLE, "prefill");
        span.setAttribute(DECODE_WORKER, decodeWorker);
        span.setAttribute(GenerateTrace.PROMPT_TOKENS, (long) promptTokens);
        span.setAttribute(GenerateTrace.CACHED_TOKENS, (long) cachedTokens);
        return new PrefillTrace(tracer, span);
    }

    /** The engine took the prompt. */
    public void submitted() {
        submittedNanos = System.nanoTime();
    }

    /** One WRITE of {@code bytes} over {@code backend} for {@code layer}, posted at {@code startNanos}, settled now. */
    public void transferred(int layer, String backend, long bytes, long startNanos, Throwable failure) {
        tracer.record("tandem.kv.transfer", context, startNanos, System.nanoTime(),
                Attributes.of(BACKEND, backend, BYTES, bytes, LAYER, (long) layer),
                failure == null ? null : String.valueOf(failure.getMessage()));
    }

    /** Replied with the first token, {@code bytes} of KV written. */
    public void replied(long bytes, int prefillCachedTokens) {
        recordCompute(null);
        span.setAttribute(GenerateTrace.TRANSFER_BYTES, bytes);
        span.setAttribute(AttributeKey.longKey("tandem.prefill.cached_tokens"), (long) prefillCachedTokens);
        span.end();
    }

    /** Failed the request ({@code why}); the decode worker prefills locally. */
    public void failed(String why) {
        recordCompute(why);
        span.setStatus(StatusCode.ERROR, why);
        span.end();
    }

    private void recordCompute(String error) {
        if (submittedNanos == 0) return;
        tracer.record("tandem.prefill.compute", context, submittedNanos, System.nanoTime(), Attributes.empty(), error);
    }
}
