package io.tandem.gateway.slo;

import io.tandem.gateway.api.ApiException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SloParserTest {
    private static final SloTargets DEFAULTS = new SloTargets(2000, 100);

    private static SloTargets parse(Map<String, String> headers, JsonObject body) {
        return SloParser.parse(headers::get, body, DEFAULTS);
    }

    @Test
    void headersWinOverBodyAndBodyOverDefaults() {
        JsonObject body = new JsonObject().put("nvext", new JsonObject().put("slo_ttft_ms", 300).put("slo_tpot_ms", 40));
        assertEquals(new SloTargets(300, 40), parse(Map.of(), body));
        assertEquals(new SloTargets(150, 40), parse(Map.of(SloParser.TTFT_HEADER, " 150 "), body));
        assertEquals(new SloTargets(300, 25.5), parse(Map.of(SloParser.TPOT_HEADER, "25.5"), body));
        assertEquals(DEFAULTS, parse(Map.of(), new JsonObject().put("model", "m")));
        assertEquals(DEFAULTS, parse(Map.of(), null));
    }

    @Test
    void badValuesAre400sNamingTheField() {
        ApiException e = assertThrows(ApiException.class, () -> parse(Map.of(SloParser.TTFT_HEADER, "fast"), null));
        assertEquals(400, e.status());
        assertEquals(SloParser.TTFT_HEADER, e.param());
        assertTrue(e.getMessage().contains("'fast'"), e.getMessage());
        e = assertThrows(ApiException.class, () -> parse(Map.of(),
                new JsonObject().put("nvext", new JsonObject().put("slo_tpot_ms", -5))));
        assertEquals("nvext.slo_tpot_ms", e.param());
        e = assertThrows(ApiException.class, () -> parse(Map.of(),
                new JsonObject().put("nvext", new JsonObject().put("slo_ttft_ms", true))));
        assertEquals("nvext.slo_ttft_ms", e.param());
        assertThrows(ApiException.class, () -> parse(Map.of(), new JsonObject().put("nvext", "x")));
        assertThrows(ApiException.class, () -> parse(Map.of(SloParser.TTFT_HEADER, "0"), null));
        assertThrows(ApiException.class, () -> parse(Map.of(SloParser.TTFT_HEADER, "NaN"), null));
    }

    @Test
    void grpcParametersTakeStringsOrNumbers() {
        assertEquals(new SloTargets(250, 100), SloParser.fromValues("250", null, DEFAULTS));
        assertEquals(new SloTargets(2000, 30), SloParser.fromValues(null, 30L, DEFAULTS));
        assertThrows(ApiException.class, () -> SloParser.fromValues("-1", null, DEFAULTS));
    }

    @Test
    void admissionRefusesWith429SloUnattainableNamingThePrediction() {
        // when to refuse is the router's decision (SloRoutingTest); this is the answer the client gets
        ApiException e = SloAdmission.unattainable(412.4, 200);
        assertEquals(429, e.status());
        assertEquals("slo_unattainable", e.type());
        assertEquals("slo_unattainable", e.code());
        assertTrue(e.getMessage().contains("412 ms") && e.getMessage().contains("200 ms"), e.getMessage());
        assertEquals(SloAdmission.SLO, SloAdmission.parse("slo"));
        assertThrows(IllegalArgumentException.class, () -> SloAdmission.parse("fifo"));
    }
}
