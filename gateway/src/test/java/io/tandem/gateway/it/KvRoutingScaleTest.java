package io.tandem.gateway.it;

import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.router.RouterMode;
import io.tandem.protocol.WorkerRole;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 32 simulated workers in one JVM (they publish no KV events: the gateway routes in approximate mode) under a
 * skewed workload: 80 % of requests start with one of four long system prompts (Zipf-like: the first is the most
 * popular), the rest are unique. Reports the router's prefix hit rate (its own estimate: the simulated engine has
 * no cache) and how evenly requests spread (the busiest worker's requests over the mean), for kv and round-robin.
 */
class KvRoutingScaleTest {
    static final int WORKERS = 32, REQUESTS = 640, CLIENTS = 32, SYSTEM_PROMPT = 96, SUFFIX = 16;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Pattern HIT = Pattern.compile("tandem_router_prefix_hit_blocks_total\\{[^}]*} ([0-9.E]+)");
    private static final Pattern PROMPT = Pattern.compile("tandem_router_prompt_blocks_total\\{[^}]*} ([0-9.E]+)");

    record Result(double hitRate, double maxOverMean, int workersUsed) {}

    @Test
    void skewedWorkloadOnThirtyTwoWorkers() throws Exception {
        Result kv = run(RouterMode.KV);
        Result rr = run(RouterMode.ROUND_ROBIN);
        String report = String.format("32 sim workers, %d requests: kv %s; round-robin %s", REQUESTS, kv, rr);
        System.out.println(report);
        assertTrue(kv.hitRate() > rr.hitRate(), report);
        // The hottest system prompt starts 40 % of the requests (about 256, 12.8x the mean of 20 per worker): routed by
        // prefix alone it would pile onto one worker. The load term spills it over: the busiest worker held 2.4-2.7x
        // the mean in eleven runs (2026-12-04), 14.65x with the load term off (load weight 0). At 4x (80 requests) or
        // less, the hottest prompt went to four workers or more.
        assertTrue(kv.maxOverMean() <= 4.0, "the hot prompts spill over to other workers: " + report);
        // Unique prompts cost the same everywhere and go to one of the idle workers at random (ties), so one worker can
        // miss all 128 of them by chance: CI saw 31 of 32 once (2026-12-04). Two missing would be far rarer.
        assertTrue(kv.workersUsed() >= WORKERS - 1, "every worker takes requests: " + report);
    }

    private static Result run(RouterMode mode) throws Exception {
        GatewayOptions options = TestSupport.options(2).setRouter(mode).setKvEvents(false);
        Gateway gateway = TestSupport.start(options);
        try {
            List<PrometheusMeterRegistry> served = new ArrayList<>();
            for (int i = 0; i < WORKERS - 1; i++) {
                PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                TestSupport.sync(WorkerDeployment.deploy(gateway.vertx(), gateway.registry(),
                        WorkerOptions.defaults(WorkerRole.DECODE).withEngine("sim", options.engineOptions()).withoutHttp(), meters));
                served.add(meters);
            }
            TestSupport.await("32 decode workers", Duration.ofSeconds(20),
                    () -> gateway.registry().liveWorkers().stream().filter(w -> w.role().servesGenerate()).count() == WORKERS);
            String model = gateway.registry().liveWorkers().getFirst().model();
            Random rnd = new Random(11);
            int[][] system = new int[4][SYSTEM_PROMPT];
            for (int[] s : system) for (int i = 0; i < s.length; i++) s[i] = 3 + rnd.nextInt(400);
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            List<Future<Integer>> all = new ArrayList<>();
            for (int r = 0; r < REQUESTS; r++) {
                JsonArray prompt = new JsonArray();
                double u = rnd.nextDouble();
                int hot = u < 0.4 ? 0 : u < 0.6 ? 1 : u < 0.7 ? 2 : u < 0.8 ? 3 : -1;
                if (hot >= 0) for (int t : system[hot]) prompt.add(t);
                for (int i = 0; i < SUFFIX; i++) prompt.add(3 + rnd.nextInt(400));
                JsonObject body = new JsonObject().put("model", model).put("prompt", prompt).put("max_tokens", 8).put("ignore_eos", true);
                all.add(pool.submit(() -> HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/completions"))
                        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofString()).statusCode()));
            }
            for (Future<Integer> f : all) assertEquals(200, f.get());
            pool.shutdown();
            String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            double hit = sum(HIT, metrics) / sum(PROMPT, metrics);
            // the embedded decode worker's count is what the others did not take
            List<Double> perWorker = new ArrayList<>(served.stream().map(KvRoutingScaleTest::finished).toList());
            double others = perWorker.stream().mapToDouble(Double::doubleValue).sum();
            perWorker.add(REQUESTS - others);
            double max = perWorker.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            int used = (int) perWorker.stream().filter(n -> n > 0).count();
            return new Result(hit, max / ((double) REQUESTS / WORKERS), used);
        } finally {
            TestSupport.sync(gateway.stop());
        }
    }

    private static double finished(PrometheusMeterRegistry meters) {
        return meters.find("tandem.worker.requests").tag("outcome", "length").counters().stream().mapToDouble(Counter::count).sum();
    }

    private static double sum(Pattern p, String metrics) {
        Matcher m = p.matcher(metrics);
        double total = 0;
        while (m.find()) total += Double.parseDouble(m.group(1));
        return total;
    }
}
