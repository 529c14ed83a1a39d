package io.tandem.gateway.slo;

import io.tandem.gateway.api.ApiException;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * A request's SLOs: the headers {@value #TTFT_HEADER} and {@value #TPOT_HEADER}, else the body's
 * {@code nvext.slo_ttft_ms} / {@code nvext.slo_tpot_ms}, else the gateway's defaults. A header wins over the body (a
 * proxy in front of the gateway may set it per tenant). Values are milliseconds, numbers &gt; 0; anything else is a
 * 400 naming the field, as the request parser reports bad parameters.
 */
public final class SloParser {
    public static final String TTFT_HEADER = "x-tandem-slo-ttft-ms";
    public static final String TPOT_HEADER = "x-tandem-slo-tpot-ms";
    /** An hour: a larger SLO is a typo (seconds for milliseconds the other way round is caught by nothing). */
    static final double MAX_MS = 3_600_000;

    private SloParser() {}

    /**
     * @param headers  the request's header by (case-insensitive) name, null when absent
     * @param body     the request body (may be null: gRPC parameters come through {@link #fromValues})
     * @param defaults the gateway's {@code --slo-ttft-ms} / {@code --slo-tpot-ms}
     */
    public static SloTargets parse(Function<String, String> headers, JsonObject body, SloTargets defaults) {
        JsonObject nvext = null;
        if (body != null && body.containsKey("nvext")) {
            if (!(body.getValue("nvext") instanceof JsonObject o)) throw ApiException.invalid("nvext", "'nvext' must be an object");
            nvext = o;
        }
        double ttft = pick(headers.apply(TTFT_HEADER), TTFT_HEADER, nvext, "slo_ttft_ms", defaults.ttftMs());
        double tpot = pick(headers.apply(TPOT_HEADER), TPOT_HEADER, nvext, "slo_tpot_ms", defaults.tpotMs());
        return new SloTargets(ttft, tpot);
    }

    /** From already separated values (gRPC request parameters): null for absent; strings or numbers. */
    public static SloTargets fromValues(Object ttft, Object tpot, SloTargets defaults) {
        return new SloTargets(ttft == null ? defaults.ttftMs() : value(ttft, "slo_ttft_ms"),
                tpot == null ? defaults.tpotMs() : value(tpot, "slo_tpot_ms"));
    }

    private static double pick(String header, String headerName, JsonObject nvext, String field, double fallback) {
        if (header != null) return value(header.trim(), headerName);
        if (nvext != null && nvext.getValue(field) != null) return value(nvext.getValue(field), "nvext." + field);
        return fallback;
    }

    private static double value(Object raw, String param) {
        double v;
        if (raw instanceof Number n) {
            v = n.doubleValue();
        } else if (raw instanceof String s) {
            try {
                v = Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw bad(param, "'" + s + "'");
            }
        } else {
            throw bad(param, "a " + raw.getClass().getSimpleName());
        }
        if (!(v > 0 && v <= MAX_MS)) throw bad(param, String.valueOf(raw));
        return v;
    }

    private static ApiException bad(String param, String got) {
        return ApiException.invalid(param, "'" + param + "' must be a number of milliseconds above 0 and at most "
                + (long) MAX_MS + ", got " + got);
    }
}
