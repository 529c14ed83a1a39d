package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.slo.SloAdmission;
import io.tandem.gateway.slo.SloTargets;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SLO admission end to end on the simulated engine, whose prefill costs real time (the worker measures it and the
 * gateway predicts from it): a TTFT objective no worker can meet is refused with 429 {@code slo_unattainable} under
 * {@code --admission slo} and served (and counted missed) without; and under twice the load the worker can serve,
 * admission control delivers more requests within their SLO per second (goodput) than admitting everything.
 */
class SloAdmissionTest {
    /**
     * 200 µs per prompt token: a prompt of ~200 tokens (the bundled model's context is 256) takes 40 ms to prefill, so
     * one worker serves at most 25 of them per second.
     */
    private static final long PREFILL_NANOS_PER_TOKEN = 200_000;
    /** Words of a test prompt, about three tokens each. */
    private static final int WORDS = 66;

    private static GatewayOptions options(SloAdmission admission) {
        return new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setEngine("sim").setPrefillWorkers(0)
                .setAdmission(admission)
                .setEngineOptions(Map.of("prefillNanosPerToken", PREFILL_NANOS_PER_TOKEN, "decodeStepNanos", 2_000_000L,
                        "perSequenceNanos", 0L, "perContextTokenNanos", 0L, "eosProbability", 0.0));
    }

    /** A prompt of about {@code words} tokens, distinct from every other from its first block (no prefix reuse). */
    private static JsonObject completion(String model, int serial, int words, int maxTokens) {
        StringBuilder prompt = new StringBuilder("request ").append(serial).append(':');
        for (int i = 0; i < words; i++) prompt.append(' ').append((char) ('a' + (serial + i) % 26)).append(i % 97);
        return new JsonObject().put("model", model).put("prompt", prompt.toString()).put("max_tokens", maxTokens)
                .put("ignore_eos", true);
    }

    private static String model(TestSupport.Http http) {
        return http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
    }

    /** Warm-up requests until every worker's load report in the registry carries measured rates. */
    private static void measured(Gateway gw, TestSupport.Http http, String model) {
        for (int i = 0; i < 3; i++) {
            TestSupport.Reply r = http.post("/v1/completions", completion(model, 1000 + i, WORDS, 4));
            assertEquals(200, r.status(), r.body());
            int promptTokens = r.json().getJsonObject("usage").getInteger("prompt_tokens");
            assertTrue(promptTokens > 150 && promptTokens < 240, "prompt of " + promptTokens + " tokens");
        }
        TestSupport.await("the worker reported its measured prefill rate", Duration.ofSeconds(20),
                () -> gw.registry().liveWorkers().stream().allMatch(w -> w.load() != null && w.load().measured()));
    }

    private static double counter(TestSupport.Http http, String result) {
        Matcher m = Pattern.compile("(?m)^tandem_slo_requests_total\\{[^}]*result=\"" + result + "\"[^}]*} (\\S+)$")
                .matcher(http.get("/metrics").body());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void anUnattainableTtftIsRefusedWithAdmissionSloAndServedWithout() {
        Gateway gw = TestSupport.start(options(SloAdmission.SLO));
        try (TestSupport.Http http = new TestSupport.Http(gw.port())) {
            String model = model(http);
            measured(gw, http, model);
            MultiMap oneMs = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
                    .add("x-tandem-slo-ttft-ms", "1");
            TestSupport.Reply refused = http.send(HttpMethod.POST, "/v1/completions",
                    completion(model, 1, WORDS, 4).toBuffer(), oneMs);
            JsonObject e = refused.error(429);
            assertEquals("slo_unattainable", e.getString("code"));
            assertEquals("slo_unattainable", e.getString("type"));
            assertTrue(e.getString("message").matches("The TTFT SLO of 1 ms cannot be met: the best predicted time to "
                    + "first token is \\d+ ms; .*"), e.getString("message"));
            assertEquals("1", refused.headers().get("retry-after"));

            // the same objective in the body (nvext), and a generous one that is met
            JsonObject nvext = completion(model, 2, WORDS, 4).put("nvext", new JsonObject().put("slo_ttft_ms", 1));
            assertEquals(429, http.post("/v1/completions", nvext).status());
            JsonObject generous = completion(model, 3, WORDS, 4).put("nvext",
                    new JsonObject().put("slo_ttft_ms", 60_000).put("slo_tpot_ms", 60_000));
            assertEquals(200, http.post("/v1/completions", generous).status());

            JsonObject bad = http.send(HttpMethod.POST, "/v1/completions", completion(model, 4, 10, 2).toBuffer(),
                    MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json")
                            .add("x-tandem-slo-ttft-ms", "soon")).error(400);
            assertEquals("x-tandem-slo-ttft-ms", bad.getString("param"));

            assertEquals(2, counter(http, "rejected"));
            assertEquals(1, counter(http, "met"));
            assertTrue(http.get("/metrics").body().matches("(?s).*\ntandem_slo_ttft_actual_to_predicted_percent_count [1-9].*"),
                    "the routed requests' predictions were scored");
        } finally {
            TestSupport.sync(gw.stop());
        }

        Gateway plain = TestSupport.start(options(SloAdmission.NONE));
        try (TestSupport.Http http = new TestSupport.Http(plain.port())) {
            String model = model(http);
            measured(plain, http, model);
            TestSupport.Reply served = http.send(HttpMethod.POST, "/v1/completions", completion(model, 5, WORDS, 4).toBuffer(),
                    MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json").add("x-tandem-slo-ttft-ms", "1"));
            assertEquals(200, served.status(), served.body());
            assertEquals(1, counter(http, "missed"));
            assertEquals(0, counter(http, "rejected"));
        } finally {
            TestSupport.sync(plain.stop());
        }
    }

    /** What one overload run gave. */
    record Run(int sent, int ok, int refused, double met, double seconds) {
        double goodput() {
            return met / seconds;
        }
    }

    @Test
    void underTwiceTheCapacityAdmissionSloDeliversMoreGoodput() throws Exception {
        Run without = overload(SloAdmission.NONE);
        Run with = overload(SloAdmission.SLO);
        System.out.printf("2x overload, TTFT SLO %d ms: admission none %s goodput %.1f/s; admission slo %s goodput %.1f/s%n",
                TTFT_SLO_MS, without, without.goodput(), with, with.goodput());
        assertEquals(0, without.refused(), "without admission control every request is served");
        assertTrue(with.refused() > 0, "admission control refused some: " + with);
        assertTrue(with.goodput() > without.goodput(), "goodput with --admission slo " + with.goodput()
                + "/s must beat " + without.goodput() + "/s without");
    }

    private static final int TTFT_SLO_MS = 500;
    /** 50 requests/s of ~200-token prompts: twice the 25/s the worker's prefill alone can serve. */
    private static final int REQUESTS = 150, GAP_MS = 20;

    private static Run overload(SloAdmission admission) throws Exception {
        Gateway gw = TestSupport.start(options(admission).setSloDefaults(new SloTargets(TTFT_SLO_MS, 0)));
        Vertx vertx = Vertx.vertx();
        try (TestSupport.Http http = new TestSupport.Http(gw.port())) {
            String model = model(http);
            measured(gw, http, model);
            double metBefore = counter(http, "met");
            HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultPort(gw.port())
                    .setDefaultHost("127.0.0.1"), new PoolOptions().setHttp1MaxSize(REQUESTS));
            List<Future<Integer>> replies = new ArrayList<>();
            Promise<Void> allSent = Promise.promise();
            long start = System.nanoTime();
            // open loop: one request every GAP_MS whatever the answers (a closed loop would slow down with the server)
            vertx.setPeriodic(GAP_MS, id -> {
                int serial = replies.size();
                JsonObject body = completion(model, serial, WORDS, 4);
                replies.add(client.request(HttpMethod.POST, "/v1/completions")
                        .compose(req -> req.putHeader("content-type", "application/json").send(body.toBuffer()))
                        .compose(resp -> resp.body().map(b -> resp.statusCode())));
                if (replies.size() == REQUESTS) {
                    vertx.cancelTimer(id);
                    allSent.complete();
                }
            });
            allSent.future().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            Future.join(replies).toCompletionStage().toCompletableFuture().get(3, TimeUnit.MINUTES);
            double seconds = (System.nanoTime() - start) / 1e9;
            int ok = 0, refused = 0;
            for (Future<Integer> f : replies) {
                if (f.result() == 200) ok++;
                else if (f.result() == 429) refused++;
                else fail("unexpected status " + f.result());
            }
            return new Run(REQUESTS, ok, refused, counter(http, "met") - metBefore, seconds);
        } finally {
            TestSupport.sync(vertx.close());
            TestSupport.sync(gw.stop());
        }
    }
}
