package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.vertx.core.internal.VertxInternal;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --event-loops} sizes the embedded Vert.x, and a completion streams through one event loop. */
class EmbeddedEventLoopsTest {

    @Test
    void oneEventLoopServesHttpAndTheWorker() throws Exception {
        Gateway gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setEngine("sim")
                .setEventLoops(1));
        try {
            assertEquals(1, eventLoops(gateway));
            HttpClient http = HttpClient.newHttpClient();
            String model = new io.vertx.core.json.JsonObject(http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl()
                    + "/v1/models")).build(), HttpResponse.BodyHandlers.ofString()).body()).getJsonArray("data")
                    .getJsonObject(0).getString("id");
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(gateway.baseUrl() + "/v1/completions"))
                    .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\": \"" + model + "\", \"prompt\": \"Once upon a time\", \"max_tokens\": 8, \"stream\": true}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().trim().endsWith("data: [DONE]"), r.body());
        } finally {
            TestSupport.sync(gateway.stop());
        }
    }

    @Test
    void zeroLeavesVertxsDefault() {
        Gateway gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setEngine("sim")
                .setEventLoops(0));
        try {
            assertEquals(2 * Runtime.getRuntime().availableProcessors(), eventLoops(gateway));
        } finally {
            TestSupport.sync(gateway.stop());
        }
    }

    private static int eventLoops(Gateway gateway) {
        int n = 0;
        for (var ignored : ((VertxInternal) gateway.vertx()).nettyEventLoopGroup()) n++;
        return n;
    }
}
