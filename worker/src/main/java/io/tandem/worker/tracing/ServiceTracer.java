package io.tandem.worker.tracing;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.vertx.core.MultiMap;
import io.vertx.core.eventbus.DeliveryOptions;

import java.util.concurrent.TimeUnit;

/**
 * One service's tracer, with what Tandem's spans need around it: W3C trace context ({@code traceparent}) in event-bus
 * message headers, and spans recorded after the fact from {@link System#nanoTime()} stamps (the engine's own timing,
 * taken without touching its threads). {@link #OFF} is inert; callers test {@link #enabled()} first so that nothing
 * is computed or allocated for a trace nobody collects.
 */
public final class ServiceTracer {

    public static final ServiceTracer OFF = new ServiceTracer(null);

    private static final TextMapSetter<DeliveryOptions> HEADERS_OUT = (d, k, v) -> d.addHeader(k, v);
    private static final TextMapGetter<MultiMap> HEADERS_IN = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(MultiMap carrier) {
            return carrier.names();
        }

        @Override
        public String get(MultiMap carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final Tracer tracer;
    /** {@link System#nanoTime()} and the epoch time at one instant: converts the one into the other. */
    private final long anchorNanoTime = System.nanoTime();
    private final long anchorEpochNanos = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());

    ServiceTracer(Tracer tracer) {
        this.tracer = tracer;
    }

    public boolean enabled() {
        return tracer != null;
    }

    /** Starts a span now, child of {@code parent}. */
    public Span start(String name, SpanKind kind, Context parent) {
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(parent).startSpan();
    }

    /** Starts a span that began at {@code startNanoTime} ({@link System#nanoTime()}). */
    public Span startAt(String name, SpanKind kind, Context parent, long startNanoTime) {
        return tracer.spanBuilder(name).setSpanKind(kind).setParent(parent)
                .setStartTimestamp(epochNanos(startNanoTime), TimeUnit.NANOSECONDS).startSpan();
    }

    /** A finished span from two {@link System#nanoTime()} stamps. */
    public Span record(String name, Context parent, long startNanoTime, long endNanoTime, Attributes attributes) {
        return record(name, parent, startNanoTime, endNanoTime, attributes, null);
    }

    /** As {@link #record(String, Context, long, long, Attributes)}, failed with {@code error} unless it is null. */
    public Span record(String name, Context parent, long startNanoTime, long endNanoTime, Attributes attributes, String error) {
        Span span = tracer.spanBuilder(name).setSpanKind(SpanKind.INTERNAL).setParent(parent).setAllAttributes(attributes)
                .setStartTimestamp(epochNanos(startNanoTime), TimeUnit.NANOSECONDS).startSpan();
        if (error != null) span.setStatus(io.opentelemetry.api.trace.StatusCode.ERROR, error);
        span.end(epochNanos(Math.max(startNanoTime, endNanoTime)), TimeUnit.NANOSECONDS);
        return span;
    }

    /** Ends {@code span} at {@code endNanoTime} ({@link System#nanoTime()}). */
    public void endAt(Span span, long endNanoTime) {
        span.end(epochNanos(endNanoTime), TimeUnit.NANOSECONDS);
    }

    /** Writes {@code context}'s {@code traceparent} (and {@code tracestate}) into the message's headers. */
    public void inject(Context context, DeliveryOptions delivery) {
        W3CTraceContextPropagator.getInstance().inject(context, delivery, HEADERS_OUT);
    }

    /** The trace context a message carries in its headers ({@link Context#root()} with none). */
    public Context extract(MultiMap headers) {
        return W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, HEADERS_IN);
    }

    long epochNanos(long nanoTime) {
        return anchorEpochNanos + (nanoTime - anchorNanoTime);
    }
}
