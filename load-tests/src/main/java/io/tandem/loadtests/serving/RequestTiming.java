package io.tandem.loadtests.serving;

import io.vertx.core.json.JsonArray;

/**
 * What one complete request (every token received, not cut at the end of its level) got: its time to first token
 * and its time per output token after the first, in milliseconds. A level keeps them so that its goodput can be read
 * against any {@link Slo} afterwards.
 */
public record RequestTiming(double ttftMs, double tpotMs) {

    /** The request's timing, or null when it failed, was cut or brought fewer than two tokens. */
    static RequestTiming of(StreamTimer.Outcome o) {
        if (!o.ok() || o.cut() || o.tpotNanos() < 0) return null; // a TPOT implies a first token, hence a TTFT
        return new RequestTiming(o.ttftNanos() / 1e6, o.tpotNanos() / 1e6);
    }

    /** {@code [ttft_ms, tpot_ms]}: a level holds a hundred or more of them. */
    JsonArray toJson() {
        return new JsonArray().add(ttftMs).add(tpotMs);
    }

    static RequestTiming fromJson(JsonArray a) {
        return new RequestTiming(a.getDouble(0), a.getDouble(1));
    }
}
