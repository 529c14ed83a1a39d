package io.tandem.gateway.slo;

import io.tandem.gateway.api.ApiException;

import java.util.Locale;

/**
 * Early rejection ({@code --admission slo}): a request whose best predicted TTFT over the candidate workers exceeds
 * its TTFT SLO is refused with 429 {@code slo_unattainable} before any worker spends anything on it (the router
 * decides, {@code SloRouting}; the dispatcher answers with {@link #unattainable}). With {@code none} (the default)
 * nothing is refused. A request without a TTFT SLO, or when no worker has measured its rates yet, is always admitted.
 */
public enum SloAdmission {
    NONE, SLO;

    public static SloAdmission parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("--admission must be 'none' or 'slo', got '" + s + "'");
        }
    }

    /** The 429 of a request no worker is predicted to serve within its TTFT objective ({@code predictedMs} best). */
    public static ApiException unattainable(double predictedMs, double sloMs) {
        return new ApiException(429, "slo_unattainable", String.format(Locale.ROOT,
                "The TTFT SLO of %.0f ms cannot be met: the best predicted time to first token is %.0f ms; retry later or "
                        + "relax x-tandem-slo-ttft-ms", sloMs, predictedMs), null, "slo_unattainable", 1);
    }
}
