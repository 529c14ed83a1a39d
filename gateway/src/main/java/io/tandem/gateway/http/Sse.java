package io.tandem.gateway.http;

import io.vertx.core.json.JsonObject;

/** Server-sent-event framing as OpenAI streams it: {@code data: <json>} events, then {@code data: [DONE]}. */
final class Sse {

    static final String DONE = "data: [DONE]\n\n";

    private Sse() {}

    static String event(JsonObject json) {
        return "data: " + json.encode() + "\n\n";
    }
}
