package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Waiting is not failing: a burst far beyond what the workers admit waits in the gateway's queue and completes, and a
 * request that waits long in a busy worker's own queue is kept alive by the worker's keep-alives — it is neither
 * timed out nor migrated.
 */
class QueueingTest {

    /** What one streamed request ended as: its HTTP status, the number of SSE events and whether [DONE] came last. */
    record Outcome(int status, int events, boolean done, String body) {}

    /** Sends {@code n} streamed completions at once from one client with a connection each; waits for all. */
    private static List<Outcome> burst(Vertx vertx, int port, String model, int n, int maxTokens) throws Exception {
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultPort(port).setDefaultHost("127.0.0.1"),
                new PoolOptions().setHttp1MaxSize(n));
        try {
            List<Future<Outcome>> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                JsonObject body = new JsonObject().put("model", model).put("prompt", "request " + i)
                        .put("max_tokens", maxTokens).put("ignore_eos", true).put("stream", true);
                all.add(client.request(HttpMethod.POST, "/v1/completions")
                        .compose(req -> req.putHeader("content-type", "application/json").send(body.toBuffer()))
                        .compose(resp -> resp.body().map(b -> outcome(resp.statusCode(), b))));
            }
            Future.join(all).toCompletionStage().toCompletableFuture().get(3, TimeUnit.MINUTES);
            return all.stream().map(Future::result).toList();
        } finally {
            client.close();
        }
    }

    private static Outcome outcome(int status, Buffer body) {
        String text = body.toString();
        int events = text.split("\n\ndata: ", -1).length;
        return new Outcome(status, events, text.trim().endsWith("data: [DONE]") && !text.contains("\"error\""), text);
    }

    @Test
    void aBurstOfAThousandStreamsWaitsInTheQueueAndEveryOneCompletes() throws Exception {
        // the defaults: the embedded decode worker admits 64 running and 256 waiting requests; the rest wait here
        Gateway gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setEngine("sim"));
        try {
            String model = gateway.workers().getFirst().record().model();
            List<Outcome> outcomes = burst(gateway.vertx(), gateway.port(), model, 1000, 8);
            List<Outcome> failed = outcomes.stream().filter(o -> o.status() != 200 || !o.done()).toList();
            assertEquals(List.of(), failed.stream().limit(3).toList(), failed.size() + " of 1000 requests failed");
            double waited = gateway.meters().get("tandem.gateway.queue.wait").timer().count();
            assertTrue(waited > 0, "some requests waited in the gateway's queue: " + waited);
            assertEquals(0, gateway.dispatcher().queuedRequests());
        } finally {
            TestSupport.sync(gateway.stop());
        }
    }

    @Test
    void requestsWaitingInABusyWorkersQueueAreKeptAliveNotTimedOut() throws Exception {
        // one sequence at a time, 20 ms per token: the eighth request waits ~5 s, the stall timeout is 400 ms
        GatewayOptions o = TestSupport.options(20).setPrefillWorkers(0).setStreamIdleTimeoutMillis(400);
        o.setEngineOptions(new java.util.HashMap<>(o.engineOptions()) {{
            put("maxRunningSequences", 1);
            put("maxWaitingRequests", 16);
        }});
        Gateway gateway = TestSupport.start(o);
        try {
            String model = gateway.workers().getFirst().record().model();
            List<Outcome> outcomes = burst(gateway.vertx(), gateway.port(), model, 8, 30);
            for (Outcome out : outcomes) {
                assertEquals(200, out.status(), out.body());
                assertTrue(out.done(), "every request completes: " + out.body());
            }
            double migrations = gateway.meters().find("tandem.migrations").counters().stream().mapToDouble(c -> c.count()).sum();
            assertEquals(0.0, migrations, "waiting is not a stall: nothing migrated");
        } finally {
            TestSupport.sync(gateway.stop());
        }
    }

}
