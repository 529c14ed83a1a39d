package io.tandem.gateway.http;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.ApiKeys;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** Bearer API keys on HTTP: the {@code Authorization} header, checked by {@link ApiKeys}. */
final class ApiKeyAuth implements Handler<RoutingContext> {

    private final ApiKeys keys;

    ApiKeyAuth(List<String> keys) {
        this.keys = new ApiKeys(keys);
    }

    @Override
    public void handle(RoutingContext ctx) {
        try {
            keys.check(ctx.request().getHeader(HttpHeaders.AUTHORIZATION), "'Authorization: Bearer <key>'");
        } catch (ApiException e) {
            ctx.fail(e);
            return;
        }
        ctx.next();
    }
}
