package io.tandem.gateway.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RequestParserTest {

    private static JsonObject chat() {
        return new JsonObject().put("model", "m")
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    }

    private static JsonObject completion() {
        return new JsonObject().put("model", "m").put("prompt", "Once upon");
    }

    private static ApiException fails(Endpoint e, JsonObject body) {
        return assertThrows(ApiException.class, () -> RequestParser.parse(e, body));
    }

    @Test
    void minimalChatGetsOpenAiDefaults() {
        CompletionRequest r = RequestParser.parse(Endpoint.CHAT, chat());
        assertEquals("m", r.model());
        assertEquals(List.of(new Message("user", "hi")), r.messages());
        assertNull(r.prompt());
        assertNull(r.maxTokens());
        assertEquals(1.0, r.temperature());
        assertEquals(1.0, r.topP());
        assertEquals(0, r.topK());
        assertNull(r.seed());
        assertEquals(List.of(), r.stop());
        assertFalse(r.stream());
        assertFalse(r.includeUsage());
        assertFalse(r.continuousUsage());
        assertEquals(-1, r.logprobs());
    }

    @Test
    void everyFieldIsRead() {
        JsonObject body = chat().put("max_tokens", 7).put("temperature", 0.5).put("top_p", 0.9).put("top_k", 40)
                .put("min_p", 0.05).put("seed", 1234567890123L).put("stop", new JsonArray().add("a").add("bc"))
                .put("stream", true).put("stream_options", new JsonObject().put("include_usage", true).put("continuous_usage_stats", true))
                .put("presence_penalty", -1.5).put("frequency_penalty", 2).put("logprobs", true).put("top_logprobs", 3)
                .put("user", "u1").put("n", 1).put("some_future_field", new JsonObject());
        CompletionRequest r = RequestParser.parse(Endpoint.CHAT, body);
        assertEquals(7, r.maxTokens());
        assertEquals(0.5, r.temperature());
        assertEquals(0.9, r.topP());
        assertEquals(40, r.topK());
        assertEquals(0.05, r.minP());
        assertEquals(1234567890123L, r.seed());
        assertEquals(List.of("a", "bc"), r.stop());
        assertTrue(r.continuousUsage());
        assertTrue(r.stream());
        assertTrue(r.includeUsage());
        assertEquals(-1.5, r.presencePenalty());
        assertEquals(2.0, r.frequencyPenalty());
        assertEquals(3, r.logprobs());
        assertEquals("u1", r.user());
    }

    @Test
    void maxCompletionTokensWinsOverMaxTokens() {
        assertEquals(9, RequestParser.parse(Endpoint.CHAT, chat().put("max_tokens", 3).put("max_completion_tokens", 9)).maxTokens());
    }

    @Test
    void contentPartsAreJoined() {
        JsonArray parts = new JsonArray()
                .add(new JsonObject().put("type", "text").put("text", "a"))
                .add(new JsonObject().put("type", "text").put("text", "b"));
        JsonObject body = chat().put("messages", new JsonArray()
                .add(new JsonObject().put("role", "developer").put("content", "sys"))
                .add(new JsonObject().put("role", "user").put("content", parts))
                .add(new JsonObject().put("role", "assistant").putNull("content")));
        CompletionRequest r = RequestParser.parse(Endpoint.CHAT, body);
        assertEquals(List.of(new Message("developer", "sys"), new Message("user", "a\nb"), new Message("assistant", "")), r.messages());
    }

    @Test
    void unsupportedContentPartIs400NamingThePart() {
        JsonArray parts = new JsonArray().add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()));
        ApiException e = fails(Endpoint.CHAT, chat().put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", parts))));
        assertEquals(400, e.status());
        assertEquals("messages[0].content[0].type", e.param());
        assertTrue(e.getMessage().contains("image_url"));
    }

    @Test
    void promptForms() {
        assertEquals("x", ((Prompt.Text) RequestParser.parse(Endpoint.COMPLETION, completion().put("prompt", "x")).prompt()).text());
        assertEquals("y", ((Prompt.Text) RequestParser.parse(Endpoint.COMPLETION, completion().put("prompt", new JsonArray().add("y"))).prompt()).text());
        assertArrayEquals(new int[]{1, 5, 9}, ((Prompt.TokenIds) RequestParser.parse(Endpoint.COMPLETION,
                completion().put("prompt", new JsonArray().add(1).add(5).add(9))).prompt()).ids());
        assertArrayEquals(new int[]{4}, ((Prompt.TokenIds) RequestParser.parse(Endpoint.COMPLETION,
                completion().put("prompt", new JsonArray().add(new JsonArray().add(4)))).prompt()).ids());
    }

    @Test
    void severalPromptsAreUnsupported() {
        ApiException e = fails(Endpoint.COMPLETION, completion().put("prompt", new JsonArray().add("a").add("b")));
        assertEquals("prompt", e.param());
        assertEquals(400, e.status());
    }

    @Test
    void completionLogprobsIsAnInteger() {
        assertEquals(2, RequestParser.parse(Endpoint.COMPLETION, completion().put("logprobs", 2)).logprobs());
        assertEquals("logprobs", fails(Endpoint.COMPLETION, completion().put("logprobs", 6)).param());
        assertEquals("logprobs", fails(Endpoint.COMPLETION, completion().put("logprobs", true)).param());
    }

    @Test
    void topLogprobsNeedsLogprobs() {
        assertEquals("top_logprobs", fails(Endpoint.CHAT, chat().put("top_logprobs", 2)).param());
        assertEquals("top_logprobs", fails(Endpoint.CHAT, chat().put("logprobs", true).put("top_logprobs", 21)).param());
        assertEquals(0, RequestParser.parse(Endpoint.CHAT, chat().put("logprobs", true)).logprobs());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "model        | 5",
            "messages     | \"hi\"",
            "max_tokens   | \"10\"",
            "max_tokens   | 1.5",
            "temperature  | \"hot\"",
            "top_p        | true",
            "top_k        | 2.5",
            "seed         | \"1\"",
            "stream       | \"yes\"",
            "stop         | 5",
            "n            | \"1\"",
            "user         | 1",
            "stream_options | true",
            "presence_penalty | []",
    })
    void wrongTypesName_theField(String field, String json) {
        JsonObject body = chat().put("stream", true).put(field, new JsonObject("{\"v\":" + json + "}").getValue("v"));
        ApiException e = fails(Endpoint.CHAT, body);
        assertEquals(400, e.status());
        assertEquals("invalid_request_error", e.type());
        assertEquals(field, e.param(), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "max_tokens        | 0",
            "max_completion_tokens | -3",
            "temperature       | 2.01",
            "temperature       | -0.1",
            "top_p             | 0",
            "top_p             | 1.5",
            "top_k             | -2",
            "min_p             | 1.1",
            "presence_penalty  | -2.5",
            "frequency_penalty | 3",
            "n                 | 2",
            "n                 | 0",
    })
    void outOfRangeIs400(String field, String json) {
        ApiException e = fails(Endpoint.CHAT, chat().put(field, new JsonObject("{\"v\":" + json + "}").getValue("v")));
        assertEquals(400, e.status());
        assertEquals(field, e.param());
    }

    @Test
    void stopRules() {
        assertEquals(List.of("x"), RequestParser.parse(Endpoint.CHAT, chat().put("stop", "x")).stop());
        assertEquals("stop", fails(Endpoint.CHAT, chat().put("stop", "")).param());
        assertEquals("stop", fails(Endpoint.CHAT, chat().put("stop", new JsonArray().add("a").add("b").add("c").add("d").add("e"))).param());
        assertEquals("stop", fails(Endpoint.CHAT, chat().put("stop", new JsonArray().add(1))).param());
    }

    @Test
    void streamOptionsOnlyWithStream() {
        assertEquals("stream_options", fails(Endpoint.CHAT, chat().put("stream_options", new JsonObject().put("include_usage", true))).param());
        assertEquals("stream_options.include_usage",
                fails(Endpoint.CHAT, chat().put("stream", true).put("stream_options", new JsonObject().put("include_usage", "y"))).param());
    }

    @Test
    void missingRequiredFields() {
        assertEquals("model", fails(Endpoint.CHAT, chat().put("model", "")).param());
        assertEquals("messages", fails(Endpoint.CHAT, new JsonObject().put("model", "m")).param());
        assertEquals("messages", fails(Endpoint.CHAT, chat().put("messages", new JsonArray())).param());
        assertEquals("prompt", fails(Endpoint.COMPLETION, new JsonObject().put("model", "m")).param());
        assertEquals("messages[0].role", fails(Endpoint.CHAT, chat().put("messages", new JsonArray().add(new JsonObject().put("role", "robot").put("content", "x")))).param());
        assertEquals("messages[0].content", fails(Endpoint.CHAT, chat().put("messages", new JsonArray().add(new JsonObject().put("role", "user")))).param());
        assertEquals("messages[0]", fails(Endpoint.CHAT, chat().put("messages", new JsonArray().add("hi"))).param());
    }

    @Test
    void knownButUnsupportedFieldsAreRefused() {
        assertEquals("echo", fails(Endpoint.COMPLETION, completion().put("echo", true)).param());
        assertEquals("best_of", fails(Endpoint.COMPLETION, completion().put("best_of", 3)).param());
        assertEquals("tools", fails(Endpoint.CHAT, chat().put("tools", new JsonArray().add(new JsonObject()))).param());
        assertEquals("response_format", fails(Endpoint.CHAT, chat().put("response_format", new JsonObject().put("type", "json_object"))).param());
        RequestParser.parse(Endpoint.CHAT, chat().put("response_format", new JsonObject().put("type", "text")).put("tools", new JsonArray()));
    }

    @Test
    void rawBodies() {
        assertEquals(400, assertThrows(ApiException.class, () -> RequestParser.parse(Endpoint.CHAT, Buffer.buffer("{nope"))).status());
        assertEquals(400, assertThrows(ApiException.class, () -> RequestParser.parse(Endpoint.CHAT, Buffer.buffer("[1,2]"))).status());
        assertEquals(400, assertThrows(ApiException.class, () -> RequestParser.parse(Endpoint.CHAT, Buffer.buffer(""))).status());
        assertEquals("m", RequestParser.parse(Endpoint.CHAT, chat().toBuffer()).model());
    }

    @Test
    void int64SeedBounds() {
        String base = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":";
        assertEquals(Long.MIN_VALUE, RequestParser.parse(Endpoint.CHAT, Buffer.buffer(base + "-9223372036854775808}")).seed());
        assertEquals(Long.MAX_VALUE, RequestParser.parse(Endpoint.CHAT, Buffer.buffer(base + "9223372036854775807}")).seed());
        ApiException e = fails(Endpoint.CHAT, new JsonObject("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":99999999999999999999}"));
        assertEquals("seed", e.param());
    }

    @Test
    void envelopeHasExactlyTheFourFields() {
        JsonObject env = ApiException.invalid("n", "bad").envelope();
        assertEquals(1, env.size());
        JsonObject error = env.getJsonObject("error");
        assertEquals(java.util.Set.of("message", "type", "param", "code"), error.fieldNames());
        assertTrue(error.containsKey("code"));
        assertNull(error.getValue("code"));
    }
}
