package io.tandem.gateway.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded gateway on the CPU engine, serving the testdata llama model: what an evaluation
 * harness does — token-id prompts, temperature 0, logprobs with vLLM's {@code return_tokens_as_token_ids}
 * — returns llama.cpp's greedy tokens, and a repeated prompt reports its prefix-cache hit.
 */
class CpuEngineGatewayTest {
    static final String MODEL = "tiny-llama-spm-f32";
    static Gateway gateway;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        Path model = TestSupport.repoRoot().resolve("testdata/models/" + MODEL + ".gguf");
        gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setModels(List.of(model))
                .setEngine("cpu").setEngineOptions(Map.of("threads", 2, "kv-cache-memory", "32MiB", "kv-dtype", "f32")));
    }

    @AfterAll
    static void stop() {
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @Test
    void tokenIdPromptsAtTemperatureZeroReturnTheGoldenGreedyTokens() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(TestSupport.repoRoot().resolve("testdata/golden/" + MODEL + ".generate.json").toFile());
        for (JsonNode p : golden.get("prompts")) {
            JsonObject body = new JsonObject().put("model", servedName()).put("prompt", ints(p.get("prompt_ids")))
                    .put("max_tokens", p.get("generated_ids").size()).put("temperature", 0).put("logprobs", 3)
                    .put("ignore_eos", true).put("return_tokens_as_token_ids", true);
            JsonObject response = post("/v1/completions", body);
            JsonObject choice = response.getJsonArray("choices").getJsonObject(0);
            JsonObject logprobs = choice.getJsonObject("logprobs");
            List<Integer> ids = new ArrayList<>();
            for (Object t : logprobs.getJsonArray("tokens")) {
                assertTrue(t.toString().startsWith("token_id:"), "tokens as ids: " + t);
                ids.add(Integer.parseInt(t.toString().substring("token_id:".length())));
            }
            int[] expected = new int[p.get("generated_ids").size()];
            for (int i = 0; i < expected.length; i++) expected[i] = p.get("generated_ids").get(i).asInt();
            assertArrayEquals(expected, ids.stream().mapToInt(Integer::intValue).toArray(), p.get("name").asText());
            assertEquals("length", choice.getString("finish_reason"));
            for (int i = 0; i < ids.size(); i++) {
                double lp = logprobs.getJsonArray("token_logprobs").getDouble(i);
                JsonObject top = logprobs.getJsonArray("top_logprobs").getJsonObject(i);
                assertEquals(3, top.size(), "top 3 alternatives");
                // greedy: the chosen token is the most likely one
                assertEquals(top.getDouble("token_id:" + ids.get(i)), lp, 1e-6);
                assertTrue(lp <= 0 && top.stream().allMatch(e -> ((Number) e.getValue()).doubleValue() <= lp + 1e-6));
            }
            assertEquals(p.get("prompt_ids").size(), response.getJsonObject("usage").getInteger("prompt_tokens"));
        }
    }

    private static double workerCachedPromptTokens() {
        return gateway.meters().find("tandem.worker.cached.prompt.tokens").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    @Test
    void aRepeatedPromptReportsItsCachedTokens() throws Exception {
        JsonArray prompt = new JsonArray();
        for (int i = 0; i < 70; i++) prompt.add(100 + i);
        JsonObject body = new JsonObject().put("model", servedName()).put("prompt", prompt).put("max_tokens", 4)
                .put("temperature", 0);
        double cachedBefore = workerCachedPromptTokens();
        JsonObject first = post("/v1/completions", body);
        JsonObject second = post("/v1/completions", body);
        assertEquals(0, first.getJsonObject("usage").getJsonObject("prompt_tokens_details").getInteger("cached_tokens"));
        assertEquals(64, second.getJsonObject("usage").getJsonObject("prompt_tokens_details").getInteger("cached_tokens"),
                "4 full blocks of 16 are reused");
        // the worker counts them too (its per-worker prefix-hit rate), when its side of the request has ended
        TestSupport.await("tandem_worker_cached_prompt_tokens_total grew by 64", java.time.Duration.ofSeconds(10),
                () -> workerCachedPromptTokens() == cachedBefore + 64);
        assertEquals(first.getJsonArray("choices").getJsonObject(0).getString("text"),
                second.getJsonArray("choices").getJsonObject(0).getString("text"));
    }

    @Test
    void streamedChatCarriesLogprobsPerToken() throws Exception {
        JsonObject body = new JsonObject().put("model", servedName()).put("stream", true).put("max_tokens", 8)
                .put("temperature", 0).put("logprobs", true).put("top_logprobs", 2).put("ignore_eos", true)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hello there")));
        HttpResponse<String> r = HTTP.send(request("/v1/chat/completions", body), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        int entries = 0;
        for (String line : r.body().split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonObject chunk = new JsonObject(line.substring(6));
            JsonArray choices = chunk.getJsonArray("choices");
            if (choices.isEmpty() || choices.getJsonObject(0).getJsonObject("logprobs") == null) continue;
            for (Object o : choices.getJsonObject(0).getJsonObject("logprobs").getJsonArray("content")) {
                JsonObject e = (JsonObject) o;
                assertEquals(2, e.getJsonArray("top_logprobs").size());
                assertTrue(e.getDouble("logprob") <= 0);
                entries++;
            }
        }
        assertEquals(8, entries, "one logprobs entry per generated token");
    }

    static String servedName() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri("/v1/models")).GET().build(), HttpResponse.BodyHandlers.ofString());
        return new JsonObject(r.body()).getJsonArray("data").getJsonObject(0).getString("id");
    }

    private static JsonObject post(String path, JsonObject body) throws Exception {
        HttpResponse<String> r = HTTP.send(request(path, body), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return new JsonObject(r.body());
    }

    private static HttpRequest request(String path, JsonObject body) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + gateway.port() + path);
    }

    private static JsonArray ints(JsonNode a) {
        JsonArray out = new JsonArray();
        for (JsonNode n : a) out.add(n.asInt());
        return out;
    }
}
