package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.gateway.it.TestSupport.Reply;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.List;
import java.util.Set;

import static io.tandem.gateway.it.TestSupport.chat;
import static org.junit.jupiter.api.Assertions.*;

/** Every endpoint and every input error, against an embedded gateway with the bundled model. */
class GatewayApiTest {

    static Gateway gateway;
    static Http http;
    static String model;

    @BeforeAll
    static void start() {
        gateway = TestSupport.start(TestSupport.options(0.5).setMaxBodyBytes(64 * 1024));
        http = new Http(gateway.port());
        model = http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
    }

    @AfterAll
    static void stop() {
        if (http != null) http.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @Test
    void healthReadyModels() {
        assertEquals(200, http.get("/health").status());
        Reply ready = http.get("/ready");
        assertEquals(200, ready.status());
        assertEquals(new JsonArray().add("tandem-fortune-5m"), ready.json().getJsonArray("models"));

        JsonObject models = http.get("/v1/models").json();
        assertEquals("list", models.getString("object"));
        assertEquals(1, models.getJsonArray("data").size(), "one entry per distinct model, the prefill worker is not listed twice");
        JsonObject m = models.getJsonArray("data").getJsonObject(0);
        assertEquals("tandem-fortune-5m", m.getString("id"));
        assertEquals("model", m.getString("object"));
        assertEquals("tandem", m.getString("owned_by"));
        assertTrue(m.getLong("created") > 1_600_000_000L);
        assertEquals(m, http.get("/v1/models/tandem-fortune-5m").json());
        assertEquals("model_not_found", http.get("/v1/models/nope").error(404).getString("code"));
    }

    @Test
    void nonStreamedChatIsOpenAiShaped() {
        Reply r = http.post("/v1/chat/completions", chat(model, "Tell me a fortune.").put("max_tokens", 12).put("seed", 7));
        assertEquals(200, r.status(), r.body());
        JsonObject body = r.json();
        assertTrue(body.getString("id").startsWith("chatcmpl-"));
        assertEquals("chat.completion", body.getString("object"));
        assertEquals(model, body.getString("model"));
        assertTrue(Math.abs(body.getLong("created") - System.currentTimeMillis() / 1000) < 60);
        JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
        assertEquals(0, choice.getInteger("index"));
        assertEquals("assistant", choice.getJsonObject("message").getString("role"));
        assertNotNull(choice.getJsonObject("message").getString("content"));
        assertTrue(Set.of("stop", "length").contains(choice.getString("finish_reason")));
        assertTrue(choice.containsKey("logprobs"));
        JsonObject usage = body.getJsonObject("usage");
        assertTrue(usage.getInteger("completion_tokens") >= 1 && usage.getInteger("completion_tokens") <= 12);
        if (choice.getString("finish_reason").equals("length")) assertEquals(12, usage.getInteger("completion_tokens"));
        assertEquals(usage.getInteger("prompt_tokens") + usage.getInteger("completion_tokens"), usage.getInteger("total_tokens"));
        assertNotNull(usage.getJsonObject("prompt_tokens_details").getInteger("cached_tokens"));
    }

    @Test
    void sameSeedSameText() {
        JsonObject req = chat(model, "Any advice?").put("max_tokens", 20).put("seed", 99).put("temperature", 0.8);
        String a = http.post("/v1/chat/completions", req).json().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
        String b = http.post("/v1/chat/completions", req).json().getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content");
        assertEquals(a, b);
    }

    /** prompt_tokens is the llama.cpp token count of the template rendering (the chat goldens). */
    @Test
    void promptTokensMatchTheChatGoldens() throws Exception {
        JsonObject golden = new JsonObject(Files.readString(TestSupport.repoRoot().resolve("testdata/golden/tandem-fortune-5m-q8_0.chat.json")));
        int checked = 0;
        for (Object o : golden.getJsonArray("cases")) {
            JsonObject c = (JsonObject) o;
            if (c.getString("rendered") == null) continue;
            JsonObject req = new JsonObject().put("model", model).put("messages", c.getJsonArray("messages")).put("max_tokens", 1);
            Reply r = http.post("/v1/chat/completions", req);
            assertEquals(200, r.status(), c.getString("name") + ": " + r.body());
            assertEquals(c.getJsonArray("ids").size(), r.json().getJsonObject("usage").getInteger("prompt_tokens"), c.getString("name"));
            checked++;
        }
        assertTrue(checked >= 5);
    }

    /** A completion prompt is tokenized with add_special and parse_special (the tokenizer goldens). */
    @Test
    void completionPromptTokensMatchTheTokenizerGoldens() throws Exception {
        JsonObject golden = new JsonObject(Files.readString(TestSupport.repoRoot().resolve("testdata/golden/tandem-fortune-5m-q8_0.tokenize.json")));
        int checked = 0;
        for (Object o : golden.getJsonArray("cases")) {
            JsonObject c = (JsonObject) o;
            String text = c.getString("text");
            if (text.startsWith("<s>") || checked >= 12) continue;
            for (Object ro : c.getJsonArray("results")) {
                JsonObject res = (JsonObject) ro;
                if (!res.getBoolean("add_special") || !res.getBoolean("parse_special")) continue;
                Reply r = http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", text).put("max_tokens", 1));
                assertEquals(200, r.status(), text + ": " + r.body());
                assertEquals(res.getJsonArray("ids").size(), r.json().getJsonObject("usage").getInteger("prompt_tokens"), text);
                checked++;
            }
        }
        assertTrue(checked >= 10);
    }

    @Test
    void nonStreamedCompletionIsOpenAiShaped() {
        Reply r = http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", "Once upon a time").put("max_tokens", 5).put("ignore_eos", true));
        assertEquals(200, r.status(), r.body());
        JsonObject body = r.json();
        assertTrue(body.getString("id").startsWith("cmpl-"));
        assertEquals("text_completion", body.getString("object"));
        JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
        assertNotNull(choice.getString("text"));
        assertEquals("length", choice.getString("finish_reason"));
        assertEquals(5, body.getJsonObject("usage").getInteger("completion_tokens"));
    }

    @Test
    void tokenIdPromptsAreCountedAsGiven() {
        Reply r = http.post("/v1/completions", new JsonObject().put("model", model)
                .put("prompt", new JsonArray().add(1).add(300).add(301).add(302)).put("max_tokens", 2));
        assertEquals(200, r.status(), r.body());
        assertEquals(4, r.json().getJsonObject("usage").getInteger("prompt_tokens"));
        assertEquals("prompt", http.post("/v1/completions", new JsonObject().put("model", model)
                .put("prompt", new JsonArray().add(1).add(999_999))).error(400).getString("param"));
    }

    @Test
    void streamedChatFraming() {
        Reply r = http.post("/v1/chat/completions", chat(model, "hi").put("stream", true).put("max_tokens", 8)
                .put("ignore_eos", true).put("stream_options", new JsonObject().put("include_usage", true)));
        List<JsonObject> chunks = r.sseJson();
        String id = chunks.getFirst().getString("id");
        assertTrue(id.startsWith("chatcmpl-"));
        for (JsonObject c : chunks) {
            assertEquals(id, c.getString("id"));
            assertEquals("chat.completion.chunk", c.getString("object"));
            assertEquals(model, c.getString("model"));
            assertTrue(c.containsKey("usage"), "include_usage: every chunk has a usage field");
        }
        JsonObject first = chunks.getFirst().getJsonArray("choices").getJsonObject(0);
        assertEquals(new JsonObject().put("role", "assistant").put("content", ""), first.getJsonObject("delta"));
        assertNull(first.getValue("finish_reason"));

        JsonObject usageChunk = chunks.getLast();
        assertEquals(new JsonArray(), usageChunk.getJsonArray("choices"));
        assertEquals(8, usageChunk.getJsonObject("usage").getInteger("completion_tokens"));

        JsonObject finish = chunks.get(chunks.size() - 2).getJsonArray("choices").getJsonObject(0);
        assertEquals(new JsonObject(), finish.getJsonObject("delta"));
        assertEquals("length", finish.getString("finish_reason"));
        StringBuilder text = new StringBuilder();
        for (JsonObject c : chunks.subList(1, chunks.size() - 2)) {
            JsonObject choice = c.getJsonArray("choices").getJsonObject(0);
            assertNull(choice.getValue("finish_reason"));
            assertNull(c.getValue("usage"));
            text.append(choice.getJsonObject("delta").getString("content"));
        }
        assertFalse(text.isEmpty());
    }

    @Test
    void streamedTextEqualsNonStreamedText() {
        JsonObject req = chat(model, "Stream me").put("max_tokens", 30).put("seed", 5);
        String whole = http.post("/v1/chat/completions", req.copy()).json().getJsonArray("choices").getJsonObject(0)
                .getJsonObject("message").getString("content");
        StringBuilder streamed = new StringBuilder();
        for (JsonObject c : http.post("/v1/chat/completions", req.copy().put("stream", true)).sseJson()) {
            JsonObject delta = c.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
            if (delta.getString("content") != null) streamed.append(delta.getString("content"));
        }
        assertEquals(whole, streamed.toString());
    }

    @Test
    void streamedCompletionFraming() {
        List<JsonObject> chunks = http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", "Once")
                .put("stream", true).put("max_tokens", 4).put("ignore_eos", true)).sseJson();
        for (JsonObject c : chunks) {
            assertEquals("text_completion", c.getString("object"));
            assertTrue(c.getString("id").startsWith("cmpl-"));
            assertFalse(c.containsKey("usage"), "no usage field without include_usage");
        }
        assertEquals("length", chunks.getLast().getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
    }

    /** vLLM's continuous_usage_stats: every chunk tells the tokens so far, so a client can count tokens per chunk. */
    @Test
    void streamedCompletionWithContinuousUsage() {
        JsonObject options = new JsonObject().put("include_usage", true).put("continuous_usage_stats", true);
        List<JsonObject> chunks = http.post("/v1/completions", new JsonObject().put("model", model)
                .put("prompt", new JsonArray().add(1).add(300).add(301).add(302).add(303)).put("stream", true)
                .put("max_tokens", 12).put("ignore_eos", true).put("stream_options", options)).sseJson();
        long before = 0;
        for (JsonObject c : chunks.subList(0, chunks.size() - 1)) {
            JsonObject usage = c.getJsonObject("usage");
            assertNotNull(usage, "every chunk carries the usage so far: " + c);
            assertEquals(5, usage.getInteger("prompt_tokens"));
            long now = usage.getLong("completion_tokens");
            assertEquals(5 + now, usage.getLong("total_tokens"));
            String text = c.getJsonArray("choices").getJsonObject(0).getString("text");
            if (!text.isEmpty()) assertTrue(now > before, "a chunk with text holds at least one new token: " + c);
            before = now;
        }
        assertEquals(12, before, "the counts add up to max_tokens");
        assertEquals(12, chunks.getLast().getJsonObject("usage").getInteger("completion_tokens"));
        // without include_usage the extension does nothing (as in vLLM)
        for (JsonObject c : http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", "Once")
                .put("stream", true).put("max_tokens", 3).put("stream_options",
                        new JsonObject().put("continuous_usage_stats", true))).sseJson()) {
            assertFalse(c.containsKey("usage"), c.encode());
        }
    }

    /**
     * A stop string made of two consecutive streamed pieces (so it spans tokens) cuts the text
     * right before it, is not emitted, and finishes with "stop".
     */
    @Test
    void stopStringAcrossTokens() {
        JsonObject req = new JsonObject().put("model", model).put("prompt", "The meaning of life is").put("max_tokens", 60)
                .put("seed", 1234).put("ignore_eos", true).put("stream", true);
        List<String> pieces = http.post("/v1/completions", req.copy()).sseJson().stream()
                .map(c -> c.getJsonArray("choices").getJsonObject(0).getString("text"))
                .filter(t -> !t.isEmpty()).toList();
        String full = String.join("", pieces);
        String stop = null;
        for (int i = 10; i + 1 < pieces.size() && stop == null; i++) {
            String candidate = pieces.get(i) + pieces.get(i + 1);
            if (candidate.trim().length() >= 3) stop = candidate;
        }
        assertNotNull(stop, "no usable stop string in " + pieces);
        String expected = full.substring(0, full.indexOf(stop));

        for (boolean stream : List.of(true, false)) {
            Reply r = http.post("/v1/completions", req.copy().put("stream", stream).put("stop", new JsonArray().add("never-ever").add(stop)));
            String text;
            String finish;
            int completionTokens;
            if (stream) {
                StringBuilder sb = new StringBuilder();
                finish = null;
                for (JsonObject c : r.sseJson()) {
                    JsonObject choice = c.getJsonArray("choices").getJsonObject(0);
                    sb.append(choice.getString("text"));
                    if (choice.getString("finish_reason") != null) finish = choice.getString("finish_reason");
                }
                text = sb.toString();
                completionTokens = -1;
            } else {
                JsonObject choice = r.json().getJsonArray("choices").getJsonObject(0);
                text = choice.getString("text");
                finish = choice.getString("finish_reason");
                completionTokens = r.json().getJsonObject("usage").getInteger("completion_tokens");
            }
            assertEquals(expected, text, "stream=" + stream + " stop=" + stop);
            assertFalse(text.contains(stop));
            assertEquals("stop", finish);
            if (completionTokens >= 0) assertTrue(completionTokens < 60 && completionTokens >= 2, "tokens consumed: " + completionTokens);
        }
    }

    @Test
    void logprobsAreValidatedAndComeFromTheSimEnginesCandidates() {
        Reply r = http.post("/v1/chat/completions", chat(model, "hi").put("max_tokens", 3).put("logprobs", true).put("top_logprobs", 2)
                .put("ignore_eos", true));
        assertEquals(200, r.status(), r.body());
        JsonObject choice = r.json().getJsonArray("choices").getJsonObject(0);
        var content = choice.getJsonObject("logprobs").getJsonArray("content");
        assertEquals(3, content.size(), "one entry per token: " + choice);
        for (int i = 0; i < content.size(); i++) {
            JsonObject t = content.getJsonObject(i);
            assertTrue(t.getDouble("logprob") <= 0, t.encode());
            assertEquals(2, t.getJsonArray("top_logprobs").size(), "top_logprobs as asked: " + t.encode());
        }
        assertEquals("top_logprobs", http.post("/v1/chat/completions", chat(model, "hi").put("top_logprobs", 2)).error(400).getString("param"));
    }

    // ---- errors ----

    @Test
    void invalidJsonIs400() {
        MultiMap h = MultiMap.caseInsensitiveMultiMap().add("content-type", "application/json");
        JsonObject e = http.send(HttpMethod.POST, "/v1/chat/completions", Buffer.buffer("{\"model\": "), h).error(400);
        assertEquals("invalid_request_error", e.getString("type"));
        http.send(HttpMethod.POST, "/v1/chat/completions", Buffer.buffer("[]"), h).error(400);
        http.send(HttpMethod.POST, "/v1/completions", Buffer.buffer(""), h).error(400);
    }

    @Test
    void wrongTypesName_theParam() {
        assertEquals("temperature", http.post("/v1/chat/completions", chat(model, "hi").put("temperature", "hot")).error(400).getString("param"));
        assertEquals("messages", http.post("/v1/chat/completions", chat(model, "hi").put("messages", "hi")).error(400).getString("param"));
        assertEquals("max_tokens", http.post("/v1/chat/completions", chat(model, "hi").put("max_tokens", 2.5)).error(400).getString("param"));
        assertEquals("stream", http.post("/v1/chat/completions", chat(model, "hi").put("stream", 1)).error(400).getString("param"));
        assertEquals("model", http.post("/v1/chat/completions", chat(model, "hi").put("model", 3)).error(400).getString("param"));
    }

    @Test
    void unsupportedAndOutOfRangeValues() {
        JsonObject e = http.post("/v1/chat/completions", chat(model, "hi").put("n", 2)).error(400);
        assertEquals("n", e.getString("param"));
        assertEquals("top_p", http.post("/v1/chat/completions", chat(model, "hi").put("top_p", 0)).error(400).getString("param"));
        assertEquals("temperature", http.post("/v1/chat/completions", chat(model, "hi").put("temperature", 3)).error(400).getString("param"));
        assertEquals("max_tokens", http.post("/v1/chat/completions", chat(model, "hi").put("max_tokens", 0)).error(400).getString("param"));
        assertEquals("stop", http.post("/v1/chat/completions", chat(model, "hi").put("stop", new JsonArray().add("a").add("b").add("c").add("d").add("e"))).error(400).getString("param"));
        JsonArray parts = new JsonArray().add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", "http://x")));
        JsonObject img = new JsonObject().put("model", model).put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", parts)));
        assertEquals("messages[0].content[0].type", http.post("/v1/chat/completions", img).error(400).getString("param"));
        assertEquals("prompt", http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", new JsonArray().add("a").add("b"))).error(400).getString("param"));
    }

    @Test
    void textPartsAreAccepted() {
        JsonArray parts = new JsonArray().add(new JsonObject().put("type", "text").put("text", "Tell me"))
                .add(new JsonObject().put("type", "text").put("text", "a fortune."));
        JsonObject req = new JsonObject().put("model", model).put("max_tokens", 2)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", parts)));
        assertEquals(200, http.post("/v1/chat/completions", req).status());
    }

    @Test
    void contextTooLong() {
        String longText = "fortune cookie wisdom ".repeat(200); // far more than 256 tokens
        JsonObject e = http.post("/v1/chat/completions", chat(model, longText)).error(400);
        assertEquals("context_length_exceeded", e.getString("code"));
        assertEquals("messages", e.getString("param"));
        JsonObject e2 = http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", "hello").put("max_tokens", 300)).error(400);
        assertEquals("context_length_exceeded", e2.getString("code"));
        assertEquals("max_tokens", e2.getString("param"));
    }

    @Test
    void unknownModelAndPaths() {
        JsonObject e = http.post("/v1/chat/completions", chat("gpt-17", "hi")).error(404);
        assertEquals("model_not_found", e.getString("code"));
        assertEquals("model", e.getString("param"));
        http.get("/v1/nothing-here").error(404);
        http.get("/").error(404);
        http.get("/v1/chat/completions").error(404); // wrong method
        http.send(HttpMethod.DELETE, "/v1/models", null, MultiMap.caseInsensitiveMultiMap()).error(404);
    }

    @Test
    void bodyOverTheLimitIs413() {
        String big = "x".repeat(100 * 1024);
        JsonObject e = http.post("/v1/chat/completions", chat(model, big)).error(413);
        assertEquals("invalid_request_error", e.getString("type"));
    }

    @Test
    void metricsArePrometheus() {
        http.post("/v1/chat/completions", chat(model, "hi").put("max_tokens", 3).put("stream", true)).sse();
        http.post("/v1/chat/completions", chat(model, "hi").put("n", 5)).error(400);
        Reply m = http.get("/metrics");
        assertEquals(200, m.status());
        String text = m.body();
        for (String name : List.of(
                "tandem_gateway_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}",
                "tandem_gateway_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"}",
                "tandem_gateway_time_to_first_token_seconds_bucket",
                "tandem_gateway_inter_token_latency_seconds_bucket",
                "tandem_gateway_request_duration_seconds_bucket",
                "tandem_gateway_input_tokens_total",
                "tandem_gateway_output_tokens_total",
                "tandem_gateway_in_flight_requests")) {
            assertTrue(text.contains(name), "missing " + name);
        }
    }

    /**
     * The gateway's own share: one admission per request (received to accepted) and one relay per token message
     * (arrival to client write), each well under the request's duration; the routing decision too, with buckets.
     */
    @Test
    void gatewayOverheadIsRecorded() {
        String admit = "tandem_gateway_overhead_seconds_%s{phase=\"admit\"}", token = "tandem_gateway_overhead_seconds_%s{phase=\"token\"}";
        String decision = "tandem_router_decision_seconds_%s{mode=\"kv\"}";
        String before = http.get("/metrics").body();
        long t0 = System.nanoTime();
        List<JsonObject> chunks = http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", "Once upon")
                .put("stream", true).put("max_tokens", 6).put("ignore_eos", true)).sseJson();
        double requestSeconds = (System.nanoTime() - t0) / 1e9;
        assertEquals("length", chunks.getLast().getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
        String after = http.get("/metrics").body();

        assertEquals(1, delta(before, after, admit.formatted("count")), "one admission per request");
        double admitted = delta(before, after, admit.formatted("sum"));
        assertTrue(admitted > 0 && admitted < requestSeconds, "admission took " + admitted + " s of a " + requestSeconds + " s request");
        double messages = delta(before, after, token.formatted("count"));
        assertTrue(messages >= 1 && messages <= 6, "one relay per token message (6 tokens): " + messages);
        double relayed = delta(before, after, token.formatted("sum"));
        assertTrue(relayed > 0 && relayed < requestSeconds, "relaying took " + relayed + " s of a " + requestSeconds + " s request");
        assertEquals(1, delta(before, after, decision.formatted("count")), "one routing decision");
        assertTrue(after.contains("tandem_gateway_overhead_seconds_bucket{phase=\"token\",le="), "buckets, so a window's p99 can be taken");
        assertTrue(after.contains("tandem_router_decision_seconds_bucket{mode=\"kv\",le="));
    }

    private static double delta(String before, String after, String sample) {
        return sample(after, sample) - sample(before, sample);
    }

    /** A sample's value in Prometheus text, 0 when absent. */
    private static double sample(String text, String sample) {
        return text.lines().filter(l -> l.startsWith(sample + " ")).mapToDouble(l -> Double.parseDouble(l.substring(sample.length() + 1).strip()))
                .findFirst().orElse(0);
    }
}
