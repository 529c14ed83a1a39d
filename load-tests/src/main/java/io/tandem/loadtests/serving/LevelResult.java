package io.tandem.loadtests.serving;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One concurrency level of a run.
 *
 * @param windowSeconds   the level's measuring window: requests start only inside it
 * @param outTokensPerSec tokens received inside the window over its length (every client busy throughout)
 * @param requests        requests started in the window; {@code cut} of them were still streaming a drain period after
 *                        it and were closed (their TTFT and gaps count), {@code failed} of them failed
 * @param errors          a few of the failures' reasons
 * @param gateway         what the server's own metrics said over the window (Tandem only), or null
 * @param timings         each complete request's TTFT and TPOT, for its goodput ({@link Slo}); null in results written
 *                        before they were kept
 */
public record LevelResult(int concurrency, double windowSeconds, double outTokensPerSec, int requests, int cut, int failed,
                          Summary ttftMs, Summary itlMs, List<String> errors, JsonObject gateway,
                          List<RequestTiming> timings) {

    public JsonObject toJson() {
        JsonObject j = new JsonObject().put("concurrency", concurrency).put("window_seconds", windowSeconds)
                .put("out_tokens_per_second", outTokensPerSec).put("requests", requests).put("cut", cut).put("failed", failed)
                .put("ttft_ms", ttftMs.toJson()).put("itl_ms", itlMs.toJson()).put("errors", new JsonArray(errors));
        if (gateway != null) j.put("gateway", gateway);
        if (timings != null) {
            JsonArray t = new JsonArray();
            timings.forEach(r -> t.add(r.toJson()));
            j.put("timings", t);
        }
        return j;
    }

    public static LevelResult fromJson(JsonObject j) {
        return new LevelResult(j.getInteger("concurrency"), Summary.num(j, "window_seconds"),
                Summary.num(j, "out_tokens_per_second"), j.getInteger("requests"), j.getInteger("cut", 0), j.getInteger("failed"),
                Summary.fromJson(j.getJsonObject("ttft_ms")), Summary.fromJson(j.getJsonObject("itl_ms")),
                j.getJsonArray("errors", new JsonArray()).stream().map(String::valueOf).toList(),
                j.getJsonObject("gateway"), timings(j.getJsonArray("timings")));
    }

    private static List<RequestTiming> timings(JsonArray timings) {
        return timings == null ? null : timings.stream().map(t -> RequestTiming.fromJson((JsonArray) t)).toList();
    }
}
