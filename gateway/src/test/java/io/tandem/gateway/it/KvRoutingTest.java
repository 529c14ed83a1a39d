package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.router.KvCostModel;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Multi-turn conversations on three CPU workers in one JVM: each turn's prompt is the previous prompt,
 * its answer and a new message. With KV routing the turns land where their prefix is cached (hit rate
 * close to the oracle's, where every turn lands on its previous turn's worker); round-robin scatters them.
 */
class KvRoutingTest {
    static final int CONVERSATIONS = 6, TURNS = 5, ANSWER = 24, NEW_TOKENS = 8, FIRST_PROMPT = 40, BLOCK = 16;
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Totals of one workload run. */
    record Result(long promptTokens, long cachedTokens, long oracleCachedTokens, double meanTtftMillis, Map<String, Integer> perWorker) {
        double hitRate() {
            return (double) cachedTokens / promptTokens;
        }

        double oracleHitRate() {
            return (double) oracleCachedTokens / promptTokens;
        }
    }

    @Test
    void kvRoutingFollowsConversationsAndRoundRobinDoesNot() throws Exception {
        run(RouterMode.RANDOM, KvCostModel.DEFAULT); // warm-up: JIT-compile the serving path before timing anything
        Result kv = run(RouterMode.KV, COST);
        Result rr = run(RouterMode.ROUND_ROBIN, COST);
        String report = String.format("kv: hit %.3f (oracle %.3f), mean TTFT %.1f ms, per worker %s; round-robin: hit %.3f, mean TTFT %.1f ms, per worker %s",
                kv.hitRate(), kv.oracleHitRate(), kv.meanTtftMillis(), kv.perWorker(), rr.hitRate(), rr.meanTtftMillis(), rr.perWorker());
        System.out.println(report);
        assertTrue(kv.hitRate() >= 0.9 * kv.oracleHitRate(), report);
        assertTrue(rr.hitRate() < 0.7 * kv.hitRate(), report);
        assertEquals(3, kv.perWorker().size(), "kv routing still uses every worker: " + report);
    }

    static final KvCostModel COST = KvCostModel.DEFAULT;

    private static Result run(RouterMode mode, KvCostModel cost) throws Exception {
        Map<String, Object> engine = Map.of("threads", 1, "kv-cache-memory", "16MiB");
        Gateway gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setEngine("cpu")
                .setEngineOptions(engine).setRouter(mode).setKvCostModel(cost));
        try {
            List<io.tandem.worker.DeployedWorker> workers = new ArrayList<>(gateway.workers().stream()
                    .filter(w -> w.record().role().servesGenerate()).toList());
            for (int i = 0; i < 2; i++) {
                workers.add(TestSupport.sync(WorkerDeployment.deploy(gateway.vertx(), gateway.registry(),
                        WorkerOptions.defaults(WorkerRole.DECODE).withEngine("cpu", engine).withoutHttp())));
            }
            TestSupport.await("three decode workers", Duration.ofSeconds(10),
                    () -> gateway.registry().liveWorkers().stream().filter(w -> w.role().servesGenerate()).count() == 3);
            String model = gateway.registry().liveWorkers().getFirst().model();
            ExecutorService pool = Executors.newFixedThreadPool(CONVERSATIONS);
            List<Future<long[]>> conversations = new ArrayList<>();
            for (int c = 0; c < CONVERSATIONS; c++) {
                int seed = c;
                conversations.add(pool.submit(() -> conversation(gateway, model, seed)));
            }
            long prompt = 0, cached = 0, oracle = 0, ttftNanos = 0;
            for (Future<long[]> f : conversations) {
                long[] r = f.get();
                prompt += r[0];
                cached += r[1];
                oracle += r[2];
                ttftNanos += r[3];
            }
            pool.shutdown();
            Map<String, Integer> perWorker = new java.util.TreeMap<>(); // requests each worker admitted
            for (var w : workers) {
                long n = ((io.tandem.engine.cpu.CpuEngine) w.engine()).stats().prefixCache().lookups();
                if (n > 0) perWorker.put(w.workerId(), (int) n);
            }
            return new Result(prompt, cached, oracle, ttftNanos / 1e6 / (CONVERSATIONS * TURNS), perWorker);
        } finally {
            TestSupport.sync(gateway.stop());
        }
    }

    /** One conversation; returns {prompt tokens, cached tokens, oracle cached tokens, summed TTFT nanos}. */
    private static long[] conversation(Gateway gateway, String model, int seed) throws Exception {
        Random rnd = new Random(seed);
        List<Integer> prompt = new ArrayList<>();
        for (int i = 0; i < FIRST_PROMPT; i++) prompt.add(3 + rnd.nextInt(400));
        long promptTokens = 0, cached = 0, oracle = 0, ttft = 0;
        int previousComputed = 0; // tokens of the previous turn whose KV the worker computed (prompt + answer - 1)
        for (int turn = 0; turn < TURNS; turn++) {
            JsonObject body = new JsonObject().put("model", model).put("prompt", new JsonArray(new ArrayList<>(prompt)))
                    .put("max_tokens", ANSWER).put("temperature", 0).put("ignore_eos", true).put("stream", true)
                    .put("stream_options", new JsonObject().put("include_usage", true)).put("logprobs", 0)
                    .put("return_tokens_as_token_ids", true);
            long t0 = System.nanoTime();
            HttpResponse<Stream<String>> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/completions"))
                    .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(), HttpResponse.BodyHandlers.ofLines());
            assertEquals(200, r.statusCode());
            List<Integer> answer = new ArrayList<>();
            JsonObject usage = null;
            long first = 0;
            for (String line : (Iterable<String>) r.body()::iterator) {
                if (!line.startsWith("data: {")) continue;
                JsonObject chunk = new JsonObject(line.substring(6));
                if (chunk.getJsonObject("usage") != null) usage = chunk.getJsonObject("usage");
                JsonArray choices = chunk.getJsonArray("choices");
                if (choices == null || choices.isEmpty() || choices.getJsonObject(0).getJsonObject("logprobs") == null) continue;
                if (first == 0) first = System.nanoTime();
                for (Object t : choices.getJsonObject(0).getJsonObject("logprobs").getJsonArray("tokens")) {
                    answer.add(Integer.parseInt(t.toString().substring("token_id:".length())));
                }
            }
            ttft += first - t0;
            assertEquals(ANSWER, answer.size());
            promptTokens += usage.getInteger("prompt_tokens");
            cached += usage.getJsonObject("prompt_tokens_details").getInteger("cached_tokens");
            oracle += Math.min(previousComputed, prompt.size() - 1) / BLOCK * BLOCK;
            previousComputed = prompt.size() + ANSWER - 1;
            prompt.addAll(answer);
            for (int i = 0; i < NEW_TOKENS; i++) prompt.add(3 + rnd.nextInt(400));
        }
        return new long[] {promptTokens, cached, oracle, ttft};
    }
}
