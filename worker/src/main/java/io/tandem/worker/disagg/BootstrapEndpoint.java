package io.tandem.worker.disagg;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * {@code GET /route}: the worker's transfer bootstrap, served only to cluster members that pass the
 * {@link BootstrapAuth} challenge when a cluster secret is set (the document reaches KV memory). 404 when the worker
 * transfers no KV; 401 with a fresh challenge when the request is not (or wrongly) authenticated.
 */
public final class BootstrapEndpoint implements Handler<RoutingContext> {
    private static final System.Logger LOG = System.getLogger(BootstrapEndpoint.class.getName());

    private final Supplier<JsonObject> document;
    private final BootstrapAuth auth;
    private final Consumer<String> refused;

    /**
     * @param document the bootstrap, or null when the worker transfers no KV
     * @param auth     the challenge state (no secret: served to anyone, as with {@code --insecure-transfer})
     * @param refused  told the reason of every refused authentication attempt (for a metric)
     */
    public BootstrapEndpoint(Supplier<JsonObject> document, BootstrapAuth auth, Consumer<String> refused) {
        this.document = document;
        this.auth = auth;
        this.refused = refused;
    }

    @Override
    public void handle(RoutingContext ctx) {
        JsonObject doc = document.get();
        if (doc == null) {
            error(ctx, 404, "this worker transfers no KV");
            return;
        }
        Buffer body = Buffer.buffer(doc.encode());
        if (!auth.required()) {
            ctx.response().putHeader("content-type", "application/json").end(body);
            return;
        }
        long now = System.currentTimeMillis();
        switch (auth.check(ctx.request().getHeader("Authorization"), now)) {
            case BootstrapAuth.Verdict.Accepted a -> ctx.response().putHeader("content-type", "application/json")
                    .putHeader(BootstrapAuth.PROOF_HEADER, auth.proof(a, body.getBytes())).end(body);
            case BootstrapAuth.Verdict.Refused r -> {
                if (!r.reason().equals("missing")) { // "missing" is the first leg of every exchange, not an attack
                    refused.accept(r.reason());
                    LOG.log(System.Logger.Level.WARNING, "refused GET /route from " + ctx.request().remoteAddress() + ": "
                            + r.message());
                }
                ctx.response().putHeader("WWW-Authenticate", auth.challenge(now));
                error(ctx, 401, "cluster authentication required: " + r.message());
            }
        }
    }

    private static void error(RoutingContext ctx, int status, String message) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(new JsonObject().put("error", new JsonObject().put("message", message)
                        .put("type", status == 401 ? "authentication_error" : "not_found_error")).encode());
    }
}
