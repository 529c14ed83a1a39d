package io.tandem.worker.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TracingTest {

    @Test
    void withoutAnEndpointTracingIsOffAndItsTracersAreInert() {
        for (Tracing t : new Tracing[] {Tracing.fromSettings(null, Map.of()),
                Tracing.fromSettings("", Map.of(Tracing.ENDPOINT_ENV, "  ")), Tracing.fromSettings(null, Map.of("OTHER", "x"))}) {
            assertSame(Tracing.OFF, t);
            assertFalse(t.enabled());
            assertSame(ServiceTracer.OFF, t.tracer(Tracing.GATEWAY_SERVICE), "no SDK: the shared inert tracer");
            assertFalse(t.tracer(Tracing.WORKER_SERVICE).enabled());
        }
    }

    @Test
    void theFlagOrTheStandardVariableTurnsOtlpExportOn() {
        Tracing fromEnv = Tracing.fromSettings(null, Map.of(Tracing.ENDPOINT_ENV, "http://127.0.0.1:4317"));
        Tracing fromFlag = Tracing.fromSettings("http://127.0.0.1:4317", Map.of());
        try {
            assertTrue(fromEnv.enabled());
            assertTrue(fromFlag.enabled());
            assertTrue(fromFlag.tracer(Tracing.WORKER_SERVICE).enabled());
            assertTrue(fromFlag.toString().contains("http://127.0.0.1:4317"), fromFlag.toString());
        } finally {
            fromEnv.close();
            fromFlag.close();
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Tracing.fromSettings("collector:4317", Map.of()));
        assertTrue(bad.getMessage().contains("--otlp-endpoint"), bad.getMessage());
    }

    @Test
    void aVertxWithoutInstalledTracingHasTheInertOne() {
        Vertx vertx = Vertx.vertx();
        Tracing installed = Tracing.exportingTo(InMemorySpanExporter.create());
        try {
            assertSame(Tracing.OFF, Tracing.of(vertx));
            installed.install(vertx);
            assertSame(installed, Tracing.of(vertx));
        } finally {
            installed.close();
            vertx.close().await();
        }
    }

    @Test
    void traceContextCrossesMessageHeadersAsTraceparent() {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        try (Tracing tracing = Tracing.exportingTo(spans)) {
            ServiceTracer sender = tracing.tracer(Tracing.GATEWAY_SERVICE), receiver = tracing.tracer(Tracing.WORKER_SERVICE);
            Span parent = sender.start("parent", SpanKind.CLIENT, Context.root());
            DeliveryOptions delivery = new DeliveryOptions();
            sender.inject(Context.root().with(parent), delivery);
            String traceparent = delivery.getHeaders().get("traceparent");
            assertTrue(traceparent.startsWith("00-" + parent.getSpanContext().getTraceId() + "-" + parent.getSpanContext().getSpanId() + "-"),
                    traceparent); // then the flags: sampled

            MultiMap received = MultiMap.caseInsensitiveMultiMap().addAll(delivery.getHeaders());
            long t0 = System.nanoTime();
            receiver.record("child", receiver.extract(received), t0, t0 + 5_000_000, io.opentelemetry.api.common.Attributes.empty());
            parent.end();
            SpanData child = spans.getFinishedSpanItems().getFirst();
            assertEquals(parent.getSpanContext().getTraceId(), child.getTraceId());
            assertEquals(parent.getSpanContext().getSpanId(), child.getParentSpanId());
            assertEquals(5_000_000, child.getEndEpochNanos() - child.getStartEpochNanos(), "after-the-fact stamps kept");
        }
    }
}
