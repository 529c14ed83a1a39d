package io.tandem.loadtests;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.csv;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.nothingFor;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.substring;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.sse;
import static io.gatling.javaapi.http.HttpDsl.status;

import io.gatling.javaapi.core.FeederBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;

/**
 * Open-model load on a running gateway: users arrive at a fixed rate, each sends one chat
 * completion, streaming over SSE (and a share non-streaming), whatever the system's speed.
 *
 * <p>System properties: {@code baseUrl} (default http://127.0.0.1:8000), {@code model}
 * (default tandem-fortune-5m), {@code usersPerSec} (default 4), {@code durationSeconds} (default 20),
 * {@code maxTokens} (default 48), {@code ignoreEos} (default true: every request generates exactly
 * maxTokens, as vLLM's benchmarks do, so runs are comparable), {@code apiKey} (optional).
 */
public class ChatCompletionsSimulation extends Simulation {

    private static final String BASE_URL = System.getProperty("baseUrl", "http://127.0.0.1:8000");
    private static final String MODEL = System.getProperty("model", "tandem-fortune-5m");
    private static final double USERS_PER_SEC = Double.parseDouble(System.getProperty("usersPerSec", "4"));
    private static final int DURATION_SECONDS = Integer.getInteger("durationSeconds", 20);
    private static final int MAX_TOKENS = Integer.getInteger("maxTokens", 48);
    private static final String API_KEY = System.getProperty("apiKey", "");
    private static final boolean IGNORE_EOS = Boolean.parseBoolean(System.getProperty("ignoreEos", "true"));

    private final HttpProtocolBuilder protocol = http.baseUrl(BASE_URL)
            .contentTypeHeader("application/json")
            .authorizationHeader(API_KEY.isEmpty() ? "" : "Bearer " + API_KEY)
            .userAgentHeader("tandem-gatling");

    private final FeederBuilder<String> prompts = csv("prompts.csv").random();

    private static String body(boolean stream) {
        return "{\"model\":\"" + MODEL + "\",\"stream\":" + stream
                + ",\"max_tokens\":" + MAX_TOKENS + ",\"ignore_eos\":" + IGNORE_EOS
                + (stream ? ",\"stream_options\":{\"include_usage\":true}" : "")
                + ",\"temperature\":0.8,\"messages\":[{\"role\":\"user\",\"content\":\"#{prompt}\"}]}";
    }

    /** Streams one chat completion: the first event must be a chunk, the stream must end with [DONE]. */
    private final ScenarioBuilder streaming = scenario("SSE chat completion")
            .feed(prompts)
            .exec(sse("chat stream").post("/v1/chat/completions")
                    .body(StringBody(body(true)))
                    .await(Duration.ofSeconds(60)).on(
                            sse.checkMessage("first chunk")
                                    .check(jsonPath("$.data").find().transform(String::valueOf)
                                            .validate("is a chat.completion.chunk",
                                                    (data, session) -> {
                                                        if (!data.contains("\"chat.completion.chunk\"")) {
                                                            throw new IllegalStateException("not a chunk: " + data);
                                                        }
                                                        return data;
                                                    })))
                    .await(Duration.ofSeconds(60)).on(
                            sse.checkMessage("done").matching(substring("[DONE]"))
                                    .check(substring("[DONE]"))))
            .exec(sse("chat stream").close());

    /** The same request without streaming: one JSON completion with a finish reason. */
    private final ScenarioBuilder nonStreaming = scenario("chat completion")
            .feed(prompts)
            .exec(http("chat").post("/v1/chat/completions")
                    .body(StringBody(body(false)))
                    .check(status().is(200))
                    .check(jsonPath("$.object").is("chat.completion"))
                    .check(jsonPath("$.choices[0].finish_reason").in("stop", "length"))
                    .check(jsonPath("$.usage.completion_tokens").ofInt().gt(0)));

    {
        setUp(
                streaming.injectOpen(
                        rampUsersPerSec(0.5).to(USERS_PER_SEC).during(Duration.ofSeconds(Math.max(1, DURATION_SECONDS / 4))),
                        constantUsersPerSec(USERS_PER_SEC).during(Duration.ofSeconds(DURATION_SECONDS))),
                nonStreaming.injectOpen(
                        nothingFor(Duration.ofSeconds(1)),
                        constantUsersPerSec(Math.max(0.5, USERS_PER_SEC / 4)).during(Duration.ofSeconds(DURATION_SECONDS))))
                .protocols(protocol)
                .assertions(global().failedRequests().count().is(0L));
    }
}
