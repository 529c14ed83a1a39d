package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;

/** Writes {@link ApiException}s as OpenAI error responses. */
final class Errors {

    private Errors() {}

    static void send(HttpServerResponse response, ApiException e) {
        if (response.ended() || response.closed()) return;
        if (response.headWritten()) {
            // a streaming response: the status is gone already, end with an error event
            response.end(Sse.event(e.envelope()) + Sse.DONE);
            return;
        }
        response.setStatusCode(e.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        if (e.retryAfterSeconds() >= 0) response.putHeader(HttpHeaders.RETRY_AFTER, Integer.toString(e.retryAfterSeconds()));
        if (e.status() == 401) response.putHeader("WWW-Authenticate", "Bearer");
        response.end(e.envelope().toBuffer());
    }
}
