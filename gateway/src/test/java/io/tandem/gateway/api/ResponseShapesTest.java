package io.tandem.gateway.api;

import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ResponseShapesTest {

    private static final ResponseShapes.Meta CHAT = new ResponseShapes.Meta(Endpoint.CHAT, "chatcmpl-1", 42, "m", false);
    private static final ResponseShapes.Meta CMPL = new ResponseShapes.Meta(Endpoint.COMPLETION, "cmpl-1", 42, "m", true);

    @Test
    void chatChunks() {
        JsonObject role = ResponseShapes.roleChunk(CHAT);
        assertEquals("chat.completion.chunk", role.getString("object"));
        assertEquals(Set.of("id", "object", "created", "model", "system_fingerprint", "choices"), role.fieldNames());
        JsonObject choice = role.getJsonArray("choices").getJsonObject(0);
        assertEquals(new JsonObject().put("role", "assistant").put("content", ""), choice.getJsonObject("delta"));
        assertTrue(choice.containsKey("finish_reason"));
        assertNull(choice.getValue("finish_reason"));

        JsonObject text = ResponseShapes.textChunk(CHAT, "hi", null);
        assertEquals("hi", text.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content"));

        JsonObject fin = ResponseShapes.finishChunk(CHAT, "length");
        assertEquals(new JsonObject(), fin.getJsonArray("choices").getJsonObject(0).getJsonObject("delta"));
        assertEquals("length", fin.getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
    }

    @Test
    void completionChunksCarryNullUsageWhenUsageIsStreamed() {
        JsonObject c = ResponseShapes.textChunk(CMPL, "x", null);
        assertEquals("text_completion", c.getString("object"));
        assertTrue(c.containsKey("usage"));
        assertNull(c.getValue("usage"));
        assertEquals("x", c.getJsonArray("choices").getJsonObject(0).getString("text"));
        JsonObject u = ResponseShapes.usageChunk(CMPL, new Usage(3, 4, 1));
        assertEquals(new JsonArray(), u.getJsonArray("choices"));
        assertEquals(7, u.getJsonObject("usage").getInteger("total_tokens"));
        assertEquals(1, u.getJsonObject("usage").getJsonObject("prompt_tokens_details").getInteger("cached_tokens"));
    }

    @Test
    void nonStreamedChatResponse() {
        JsonObject r = ResponseShapes.completion(CHAT, "hello", "stop", new Usage(5, 2, 0), null);
        assertEquals("chat.completion", r.getString("object"));
        JsonObject choice = r.getJsonArray("choices").getJsonObject(0);
        assertEquals(0, choice.getInteger("index"));
        assertEquals("assistant", choice.getJsonObject("message").getString("role"));
        assertEquals("hello", choice.getJsonObject("message").getString("content"));
        assertEquals("stop", choice.getString("finish_reason"));
        assertTrue(choice.containsKey("logprobs"));
        assertEquals(new JsonObject().put("prompt_tokens", 5).put("completion_tokens", 2).put("total_tokens", 7)
                .put("prompt_tokens_details", new JsonObject().put("cached_tokens", 0)), r.getJsonObject("usage"));
    }

    @Test
    void logprobShapes() {
        LogprobsShaper chat = new LogprobsShaper(Endpoint.CHAT, id -> ("t" + id).getBytes(StandardCharsets.UTF_8));
        assertNull(chat.drain());
        chat.add(new TokenLogprobs(7, -0.5f, new int[]{7, 8}, new float[]{-0.5f, -1.25f}));
        JsonObject c = chat.drain();
        JsonObject entry = c.getJsonArray("content").getJsonObject(0);
        assertEquals("t7", entry.getString("token"));
        assertEquals(-0.5, entry.getDouble("logprob"));
        assertEquals(new JsonArray().add(116).add(55), entry.getJsonArray("bytes"));
        assertEquals("t8", entry.getJsonArray("top_logprobs").getJsonObject(1).getString("token"));

        LogprobsShaper cmpl = new LogprobsShaper(Endpoint.COMPLETION, id -> ("t" + id).getBytes(StandardCharsets.UTF_8));
        cmpl.add(new TokenLogprobs(1, -1f, new int[]{1}, new float[]{-1f}));
        cmpl.drain();
        cmpl.add(new TokenLogprobs(22, -2f, new int[]{22}, new float[]{-2f}));
        JsonObject l = cmpl.drain();
        assertEquals(new JsonArray().add("t22"), l.getJsonArray("tokens"));
        assertEquals(new JsonArray().add(2), l.getJsonArray("text_offset"), "offsets continue across chunks");
        assertEquals(-2.0, l.getJsonArray("top_logprobs").getJsonObject(0).getDouble("t22"));
    }
}
