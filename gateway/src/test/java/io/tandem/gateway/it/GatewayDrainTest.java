package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Gateway#drain} in one JVM (embedded, simulated engine); {@link GracefulDrainIT} does it with SIGTERM. */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class GatewayDrainTest {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private Gateway gw;

    @AfterEach
    void stop() {
        if (gw != null) TestSupport.sync(gw.stop());
    }

    private CompletableFuture<HttpResponse<String>> post(int tokens, boolean stream) {
        JsonObject body = TestSupport.chat(gw.workers().getFirst().record().model(), "Count.")
                .put("max_tokens", tokens).put("ignore_eos", true).put("stream", stream);
        return http.sendAsync(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString());
    }

    private int running() {
        return gw.workers().stream().mapToInt(w -> w.engine().activeRequests()).sum();
    }

    @Test
    void aDrainingGatewayRefusesNewRequestsWith503AndFinishesThoseInFlight() throws Exception {
        gw = TestSupport.start(TestSupport.options(10));
        List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
        for (int i = 0; i < 3; i++) inFlight.add(post(150, i != 0)); // streamed and not
        TestSupport.await("3 requests run", Duration.ofSeconds(30), () -> running() == 3);

        var drained = gw.drain(Duration.ofSeconds(60));

        HttpResponse<String> refused = post(5, true).get(30, TimeUnit.SECONDS);
        assertEquals(503, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("retry-after").isPresent(), refused.headers().toString());
        assertEquals("close", refused.headers().firstValue("connection").orElse(""), "the client reconnects elsewhere");
        assertEquals("draining", new JsonObject(refused.body()).getJsonObject("error").getString("code"));
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, ready.statusCode(), ready.body());

        Gateway.DrainReport report = drained.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertEquals(new Gateway.DrainReport(3, 3, 0, report.millis()), report);
        for (var r : inFlight) {
            HttpResponse<String> done = r.get(30, TimeUnit.SECONDS);
            assertEquals(200, done.statusCode(), done.body());
            assertTrue(done.body().contains("\"finish_reason\":\"length\""), done.body());
        }
    }

    @Test
    void atTheTimeoutTheGatewayCancelsWhatStillRuns() throws Exception {
        gw = TestSupport.start(TestSupport.options(20));
        var stream = post(200, true);
        TestSupport.await("the request runs", Duration.ofSeconds(30), () -> running() == 1);

        Gateway.DrainReport report = gw.drain(Duration.ofMillis(200)).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);

        assertEquals(new Gateway.DrainReport(1, 0, 1, report.millis()), report);
        HttpResponse<String> cut = stream.get(30, TimeUnit.SECONDS);
        assertEquals(200, cut.statusCode(), "the stream had begun");
        assertFalse(cut.body().contains("\"finish_reason\":\"length\""), "cut short: " + cut.body());
        assertTrue(cut.body().contains("The gateway shut down before this request finished")
                && cut.body().endsWith("data: [DONE]\n\n"), "an error event ends the stream: " + cut.body());
        TestSupport.await("the engine freed the request", Duration.ofSeconds(15), () -> running() == 0);
    }

    @Test
    void aGatewayWithNothingInFlightDrainsAtOnce() throws Exception {
        gw = TestSupport.start(TestSupport.options(1));
        Gateway.DrainReport report = gw.drain(Duration.ofSeconds(60)).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS);
        assertEquals(new Gateway.DrainReport(0, 0, 0, report.millis()), report);
    }
}
