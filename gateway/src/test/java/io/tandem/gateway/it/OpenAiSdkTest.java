package io.tandem.gateway.it;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import io.tandem.gateway.Gateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The official OpenAI Java SDK talks to the gateway (with an API key configured). */
class OpenAiSdkTest {

    static Gateway gateway;
    static OpenAIClient client;
    static String model;

    @BeforeAll
    static void start() {
        gateway = TestSupport.start(TestSupport.options(0.5).addApiKey("sk-tandem-test"));
        client = OpenAIOkHttpClient.builder()
                .baseUrl("http://127.0.0.1:" + gateway.port() + "/v1")
                .apiKey("sk-tandem-test")
                .maxRetries(0)
                .timeout(Duration.ofSeconds(30))
                .build();
        model = client.models().list().items().getFirst().id();
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    private static ChatCompletionCreateParams params() {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addSystemMessage("You are a fortune cookie.")
                .addUserMessage("Tell me a fortune.")
                .maxCompletionTokens(16)
                .seed(3)
                .build();
    }

    @Test
    void nonStreaming() {
        ChatCompletion completion = client.chat().completions().create(params());
        assertTrue(completion.id().startsWith("chatcmpl-"));
        assertEquals(model, completion.model());
        ChatCompletion.Choice choice = completion.choices().getFirst();
        assertTrue(choice.message().content().isPresent());
        assertTrue(List.of(ChatCompletion.Choice.FinishReason.STOP, ChatCompletion.Choice.FinishReason.LENGTH).contains(choice.finishReason()));
        CompletionUsage usage = completion.usage().orElseThrow();
        assertTrue(usage.completionTokens() >= 1 && usage.completionTokens() <= 16);
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens());
    }

    @Test
    void streaming() {
        StringBuilder text = new StringBuilder();
        String finish = null;
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params())) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                chunks++;
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    c.delta().content().ifPresent(text::append);
                    if (c.finishReason().isPresent()) finish = c.finishReason().get().asString();
                }
            }
        }
        assertTrue(chunks >= 3, "role, content and finish chunks");
        assertNotNull(finish);
        String whole = client.chat().completions().create(params()).choices().getFirst().message().content().orElseThrow();
        assertEquals(whole, text.toString(), "same seed, same text, streamed or not");
    }
}
