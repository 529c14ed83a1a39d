package io.tandem.worker.disagg;

import io.tandem.protocol.auth.ClusterSecret;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/**
 * Fetches a peer's {@code GET /route}, answering its {@link BootstrapAuth} challenge with the cluster secret and
 * checking its proof, so the document is known to come from a cluster member. A peer that should authenticate and
 * does not (or the other way round) is refused with the reason: a mixed configuration fails loudly.
 */
final class BootstrapClient {
    private final HttpClient http;
    private final ClusterSecret secret;
    private final String requester;
    private final long timeoutMillis;

    BootstrapClient(HttpClient http, ClusterSecret secret, String requester, long timeoutMillis) {
        this.http = http;
        this.secret = secret;
        this.requester = requester;
        this.timeoutMillis = timeoutMillis;
    }

    Future<JsonObject> fetch(String host, int port) {
        String where = host + ":" + port;
        return get(host, port, null).compose(first -> {
            if (first.status() == 200) {
                if (secret != null) {
                    return Future.failedFuture("the worker at " + where + " serves /route without authentication, but this "
                            + "worker has a cluster secret: give both the same secret");
                }
                return Future.succeededFuture(first.body().toJsonObject());
            }
            if (first.status() != 401) return Future.failedFuture("GET /route at " + where + " answered " + first.status());
            if (secret == null) {
                return Future.failedFuture("the worker at " + where + " requires the cluster secret, and this worker has none");
            }
            BootstrapAuth.Answer answer;
            try {
                answer = BootstrapAuth.answer(secret, first.challenge(), requester);
            } catch (IllegalArgumentException e) {
                return Future.failedFuture("the worker at " + where + ": " + e.getMessage());
            }
            return get(host, port, answer.authorization()).compose(second -> {
                if (second.status() == 401) {
                    return Future.failedFuture("the worker at " + where + " refused our cluster secret (is it the same on both?)");
                }
                if (second.status() != 200) return Future.failedFuture("GET /route at " + where + " answered " + second.status());
                if (!BootstrapAuth.verifyProof(secret, answer, second.proof(), second.body().getBytes())) {
                    return Future.failedFuture("the answer of " + where + " carries no valid proof of the cluster secret");
                }
                return Future.succeededFuture(second.body().toJsonObject());
            });
        });
    }

    private record Reply(int status, Buffer body, String challenge, String proof) {
    }

    private Future<Reply> get(String host, int port, String authorization) {
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(host).setPort(port).setURI("/route")
                .setIdleTimeout(timeoutMillis).setConnectTimeout(timeoutMillis);
        if (authorization != null) options.putHeader("Authorization", authorization);
        return http.request(options).compose(req -> req.send()).compose((HttpClientResponse resp) -> resp.body().map(body ->
                new Reply(resp.statusCode(), body, resp.getHeader("WWW-Authenticate"), resp.getHeader(BootstrapAuth.PROOF_HEADER))));
    }
}
