package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.protocol.WorkerRole;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.tandem.gateway.it.TestSupport.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker serving a stream goes away mid-stream and the client does not notice: on the CPU engine with the
 * fortune model, the tokens (ids and logprobs), the text and the usage equal those of the same request without the
 * fault — greedy, and seeded sampling with penalties. Two aggregated workers serve the model; the client stops reading
 * after the first tokens, so flow control holds the stream open (it cannot finish) while its worker is removed.
 */
class MigrationTest {
    static final int MAX_TOKENS = 160;
    static final Path GGUF = TestSupport.repoRoot().resolve("testdata/models/tandem-fortune-5m-f32.gguf");
    static final Map<String, Object> ENGINE = Map.of("threads", 1, "kv-cache-memory", "16MiB", "kv-dtype", "f32");
    static Gateway gateway;
    static final List<DeployedWorker> extra = new ArrayList<>();
    static String model;

    @BeforeAll
    static void start() {
        GatewayOptions o = new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setModels(List.of(GGUF))
                .setEngine("cpu").setEngineOptions(ENGINE).setPrefillWorkers(0)
                .setSseWriteQueueBytes(1024).setSendBufferBytes(4096).setInitialCredits(8);
        gateway = TestSupport.start(o);
        model = gateway.workers().getFirst().record().model();
        addWorker();
    }

    /** Another aggregated worker for the model, in the gateway's Vert.x and registry; waits for two live workers. */
    private static void addWorker() {
        extra.add(TestSupport.sync(WorkerDeployment.deploy(gateway.vertx(), gateway.registry(),
                WorkerOptions.defaults(WorkerRole.BOTH).withModelPath(GGUF).withEngine("cpu", ENGINE).withoutHttp())));
        await("two workers to serve the model", Duration.ofSeconds(10), () -> gateway.registry().liveWorkers(model).size() == 2);
    }

    @AfterAll
    static void stop() {
        for (DeployedWorker w : extra) TestSupport.sync(w.undeploy(gateway.vertx()).recover(e -> io.vertx.core.Future.succeededFuture()));
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    private static JsonObject request(boolean seeded) {
        JsonObject body = new JsonObject().put("model", model).put("prompt", "Once upon a time")
                .put("max_tokens", MAX_TOKENS).put("ignore_eos", true).put("stream", true)
                .put("stream_options", new JsonObject().put("include_usage", true))
                .put("logprobs", 2).put("return_tokens_as_token_ids", true);
        if (seeded) {
            body.put("temperature", 0.9).put("top_p", 0.95).put("seed", 4242).put("presence_penalty", 0.5)
                    .put("frequency_penalty", 0.7);
        } else {
            body.put("temperature", 0);
        }
        return body;
    }

    /** What the client saw: token ids with their logprobs, the text, the finish reason and the usage. */
    record Seen(List<String> tokens, List<Double> logprobs, String text, String finishReason, JsonObject usage) {}

    private static Seen parse(List<String> events) {
        assertEquals("[DONE]", events.getLast());
        List<String> tokens = new ArrayList<>();
        List<Double> lps = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        String finish = null;
        JsonObject usage = null;
        for (String e : events.subList(0, events.size() - 1)) {
            JsonObject chunk = new JsonObject(e);
            assertTrue(chunk.getJsonObject("error") == null, "no error reaches the client: " + e);
            if (chunk.getJsonObject("usage") != null) usage = chunk.getJsonObject("usage");
            JsonArray choices = chunk.getJsonArray("choices");
            if (choices == null || choices.isEmpty()) continue;
            JsonObject choice = choices.getJsonObject(0);
            text.append(choice.getString("text", ""));
            if (choice.getString("finish_reason") != null) finish = choice.getString("finish_reason");
            JsonObject lp = choice.getJsonObject("logprobs");
            if (lp != null) {
                for (Object t : lp.getJsonArray("tokens")) tokens.add((String) t);
                for (Object v : lp.getJsonArray("token_logprobs")) lps.add(((Number) v).doubleValue());
            }
        }
        return new Seen(tokens, lps, text.toString(), finish, usage);
    }

    private static double migrations() {
        return gateway.meters().find("tandem.migrations").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @ParameterizedTest(name = "seeded={0}")
    @ValueSource(booleans = {false, true})
    void aStreamWhoseWorkerGoesAwayContinuesTheSameTokensOnAnotherWorker(boolean seeded) throws Exception {
        Seen reference;
        try (RawHttp client = new RawHttp(gateway.port(), 0)) {
            client.post("/v1/completions", request(seeded));
            reference = parse(client.readEvents());
        }
        assertEquals(MAX_TOKENS, reference.tokens().size());

        double migrationsBefore = migrations();
        Seen migrated;
        DeployedWorker victim;
        try (RawHttp client = new RawHttp(gateway.port(), 2048)) {
            client.post("/v1/completions", request(seeded));
            assertNotNull(client.readUntil("data: {"), "a first token arrives");
            // the client reads nothing more: flow control keeps the stream open however fast the engine is
            await("the stream to be placed", Duration.ofSeconds(10), () -> gateway.dispatcher().streams().stream()
                    .anyMatch(s -> s.workerId() != null));
            GenerationStream stream = gateway.dispatcher().streams().getFirst();
            String serving = stream.workerId();
            victim = java.util.stream.Stream.concat(gateway.workers().stream(), extra.stream())
                    .filter(w -> w.workerId().equals(serving)).findFirst().orElseThrow();
            TestSupport.sync(victim.undeploy(gateway.vertx()));
            migrated = parse(client.readEvents()); // all but the first event, which was read above
        }
        assertTrue(migrations() >= migrationsBefore + 1, "the request moved once");
        assertNotEquals(null, migrated.finishReason());
        List<String> tail = reference.tokens().subList(reference.tokens().size() - migrated.tokens().size(), reference.tokens().size());
        assertEquals(tail, migrated.tokens(), "the same token ids, none lost, none repeated");
        assertEquals(reference.logprobs().subList(reference.logprobs().size() - migrated.logprobs().size(), reference.logprobs().size()),
                migrated.logprobs(), "the same logprobs");
        assertTrue(reference.text().endsWith(migrated.text()), "the same text");
        assertEquals(reference.finishReason(), migrated.finishReason());
        assertEquals(reference.usage(), migrated.usage(), "usage counts every token once");
        extra.remove(victim);
        addWorker(); // the next case needs two workers again
    }
}
