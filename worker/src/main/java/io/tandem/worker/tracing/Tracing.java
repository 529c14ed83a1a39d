package io.tandem.worker.tracing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.core.shareddata.Shareable;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;

import java.util.Collection;
import java.util.Map;
import java.util.function.Supplier;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Where the gateway and the workers get their tracers from: {@link #OFF} (no SDK at all: every {@link ServiceTracer}
 * is {@link ServiceTracer#OFF} and callers skip their tracing code), or one OpenTelemetry SDK per service name
 * ({@code tandem-gateway}, {@code tandem-worker}) exporting to one {@link SpanExporter} — OTLP/gRPC in production, an
 * in-memory exporter in tests.
 *
 * <p>One instance belongs to one Vert.x instance ({@link #install}, {@link #of}): the gateway and the workers it
 * embeds share it, and two gateways in one JVM (tests) do not. It is no global: nothing static is mutable.
 */
public final class Tracing implements Shareable, AutoCloseable {

    /** The standard variable of the OpenTelemetry SDKs, read when {@code --otlp-endpoint} is not given. */
    public static final String ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public static final String GATEWAY_SERVICE = "tandem-gateway";
    public static final String WORKER_SERVICE = "tandem-worker";
    /** Nothing traced, nothing allocated. */
    public static final Tracing OFF = new Tracing(null, null, "off");
    private static final String MAP = "tandem.tracing";
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

    /** A new exporter for each service's SDK (closing an SDK shuts its exporter down: they must not share one). */
    private final Supplier<SpanExporter> exporters;
    private final Function<SpanExporter, SpanProcessor> processor;
    private final String description;
    private final Map<String, OpenTelemetrySdk> sdks = new ConcurrentHashMap<>();
    private final Map<String, ServiceTracer> tracers = new ConcurrentHashMap<>();

    private Tracing(Supplier<SpanExporter> exporters, Function<SpanExporter, SpanProcessor> processor, String description) {
        this.exporters = exporters;
        this.processor = processor;
        this.description = description;
    }

    /**
     * From the settings: {@code flag} ({@code --otlp-endpoint}) if given, else {@link #ENDPOINT_ENV} from {@code env},
     * else {@link #OFF}.
     */
    public static Tracing fromSettings(String flag, Map<String, String> env) {
        String endpoint = flag != null && !flag.isBlank() ? flag : env.get(ENDPOINT_ENV);
        return endpoint == null || endpoint.isBlank() ? OFF : otlp(endpoint.strip());
    }

    /** Spans batched and sent over OTLP/gRPC to {@code endpoint} (a collector, e.g. {@code http://collector:4317}). */
    public static Tracing otlp(String endpoint) {
        try {
            OtlpGrpcSpanExporter.builder().setEndpoint(endpoint).build().close(); // fails now on a malformed URL
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--otlp-endpoint (or " + ENDPOINT_ENV + ") '" + endpoint
                    + "' is not a URL like http://collector:4317: " + e.getMessage(), e);
        }
        return new Tracing(() -> OtlpGrpcSpanExporter.builder().setEndpoint(endpoint).build(),
                e -> BatchSpanProcessor.builder(e).build(), "OTLP " + endpoint);
    }

    /**
     * Every span handed to {@code exporter} as it ends (tests: an in-memory exporter). The caller owns the exporter:
     * closing this tracing leaves it open, its spans readable.
     */
    public static Tracing exportingTo(SpanExporter exporter) {
        SpanExporter shared = new SpanExporter() {
            @Override
            public CompletableResultCode export(Collection<SpanData> spans) {
                return exporter.export(spans);
            }

            @Override
            public CompletableResultCode flush() {
                return exporter.flush();
            }

            @Override
            public CompletableResultCode shutdown() {
                return CompletableResultCode.ofSuccess();
            }
        };
        return new Tracing(() -> shared, SimpleSpanProcessor::create, exporter.toString());
    }

    public boolean enabled() {
        return exporters != null;
    }

    /** The tracer of {@code service} ({@link ServiceTracer#OFF} when tracing is off). */
    public ServiceTracer tracer(String service) {
        if (!enabled()) return ServiceTracer.OFF;
        return tracers.computeIfAbsent(service, s -> new ServiceTracer(sdks.computeIfAbsent(s, this::sdk).getTracer("io.tandem")));
    }

    private OpenTelemetrySdk sdk(String service) {
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(SERVICE_NAME, service))))
                .addSpanProcessor(processor.apply(exporters.get()))
                .build();
        return OpenTelemetrySdk.builder().setTracerProvider(provider).build();
    }

    /** Makes this the tracing of everything running in {@code vertx} (call before deploying the gateway or a worker). */
    public Tracing install(Vertx vertx) {
        LocalMap<String, Tracing> map = vertx.sharedData().getLocalMap(MAP);
        map.put(MAP, this);
        return this;
    }

    /** The tracing installed in {@code vertx}, or {@link #OFF}. */
    public static Tracing of(Vertx vertx) {
        LocalMap<String, Tracing> map = vertx.sharedData().getLocalMap(MAP);
        Tracing t = map.get(MAP);
        return t == null ? OFF : t;
    }

    /** Sends what is still batched and stops the SDKs and their exporters. */
    @Override
    public void close() {
        if (!enabled()) return;
        sdks.values().forEach(OpenTelemetrySdk::close);
        sdks.clear();
        tracers.clear();
    }

    @Override
    public String toString() {
        return enabled() ? "tracing to " + description : "tracing off";
    }
}
