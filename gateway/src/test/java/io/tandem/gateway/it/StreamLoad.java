package io.tandem.gateway.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Streamed completions against a gateway, as a client sees them: each request's token ids (through
 * {@code logprobs} with {@code return_tokens_as_token_ids}) as they arrive, and how it ended. A request failed when it
 * got no 200, an error event, no {@code [DONE]}, a dropped connection, or fewer tokens than it asked for (the requests
 * set {@code ignore_eos}, so a complete answer has exactly {@code max_tokens}).
 */
public final class StreamLoad implements AutoCloseable {

    /** One request: a name (unique in a run) and its body, as {@link #body} builds it. */
    public record Spec(String name, JsonObject body) {
        public int maxTokens() {
            return body.getInteger("max_tokens");
        }
    }

    /** How a request ended: {@code error} is null exactly when it succeeded. */
    public record Outcome(String name, List<String> tokens, String finishReason, String error) {
        public boolean ok() {
            return error == null;
        }

        @Override
        public String toString() {
            return name + (ok() ? ": ok, " + tokens.size() + " tokens" : ": FAILED after " + tokens.size() + " tokens: " + error);
        }
    }

    /** A request under way: the tokens seen so far can be read while it runs. */
    public static final class Running {
        final Spec spec;
        private final AtomicInteger received = new AtomicInteger();
        final CompletableFuture<Outcome> done = new CompletableFuture<>();

        private Running(Spec spec) {
            this.spec = spec;
        }

        public int receivedTokens() {
            return received.get();
        }

        public Outcome await(Duration within) throws Exception {
            return done.get(within.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Duration requestTimeout;

    /** @param requestTimeout the longest one request may take, from sending to {@code [DONE]} */
    public StreamLoad(Duration requestTimeout) {
        this.requestTimeout = requestTimeout;
    }

    /**
     * A streamed completion body: {@code prompt}, {@code maxTokens} tokens (EOS ignored), greedy when {@code seed} is
     * null, else seeded sampling with penalties (what a migration must carry across).
     */
    public static JsonObject body(String model, Object prompt, int maxTokens, Long seed) {
        JsonObject b = new JsonObject().put("model", model).put("prompt", prompt).put("max_tokens", maxTokens)
                .put("ignore_eos", true).put("stream", true).put("logprobs", 1).put("return_tokens_as_token_ids", true);
        if (seed == null) return b.put("temperature", 0);
        return b.put("temperature", 0.9).put("top_p", 0.95).put("seed", seed)
                .put("presence_penalty", 0.5).put("frequency_penalty", 0.7);
    }

    /** {@code count} specs with distinct prompts, every {@code seededEvery}-th one seeded (0: none). */
    public static List<Spec> specs(String model, String prefix, int count, int maxTokens, int seededEvery) {
        List<Spec> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            boolean seeded = seededEvery > 0 && i % seededEvery == seededEvery - 1;
            out.add(new Spec(prefix + "-" + i + (seeded ? "-seeded" : "-greedy"),
                    body(model, "Once upon a time, request " + prefix + " number " + i + " said", maxTokens,
                            seeded ? 1000L + i : null)));
        }
        return out;
    }

    /** Sends {@code spec} to the gateway at {@code base} ({@code http://host:port}). */
    public Running start(String base, Spec spec) {
        Running r = new Running(spec);
        threads.execute(() -> r.done.complete(run(base, spec, r.received)));
        return r;
    }

    /** Sends every spec at once and waits for all; the outcomes by name. */
    public Map<String, Outcome> runAll(String base, List<Spec> specs) throws Exception {
        List<Running> running = specs.stream().map(s -> start(base, s)).toList();
        return collect(running);
    }

    public Map<String, Outcome> collect(List<Running> running) throws Exception {
        Map<String, Outcome> out = new LinkedHashMap<>();
        for (Running r : running) out.put(r.spec.name(), r.await(requestTimeout.plusSeconds(10)));
        return out;
    }

    /**
     * {@code clients} clients sending one request after another to {@code base} until {@link Loop#stop}: client
     * {@code c}'s {@code n}-th request is {@code specs.get((c + n) % specs.size())}.
     */
    public Loop loop(String base, int clients, List<Spec> specs) {
        Loop loop = new Loop();
        for (int c = 0; c < clients; c++) {
            int client = c;
            loop.clients.add(CompletableFuture.runAsync(() -> {
                for (int n = 0; !loop.stopping.get(); n++) {
                    Spec spec = specs.get((client + n) % specs.size());
                    Running r = new Running(spec);
                    loop.current.add(r);
                    r.done.complete(run(base, spec, r.received));
                    loop.current.remove(r);
                    loop.outcomes.add(r.done.join());
                }
            }, threads));
        }
        return loop;
    }

    /** Clients sending requests back to back; {@link #stop} lets each finish its current request. */
    public static final class Loop {
        private final AtomicBoolean stopping = new AtomicBoolean();
        private final List<CompletableFuture<Void>> clients = new ArrayList<>();
        private final List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        private final List<Running> current = Collections.synchronizedList(new ArrayList<>());

        /** Requests finished so far (ok or not). */
        public List<Outcome> outcomes() {
            synchronized (outcomes) {
                return List.copyOf(outcomes);
            }
        }

        /** The requests under way now. */
        public List<Running> inFlight() {
            synchronized (current) {
                return List.copyOf(current);
            }
        }

        /** Sends no new request from now on (those under way go on). */
        public void halt() {
            stopping.set(true);
        }

        /** Stops sending and waits for the requests under way; every outcome. */
        public List<Outcome> stop(Duration within) throws Exception {
            halt();
            CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new)).get(within.toMillis(), TimeUnit.MILLISECONDS);
            return outcomes();
        }
    }

    private Outcome run(String base, Spec spec, AtomicInteger received) {
        List<String> tokens = new ArrayList<>();
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/completions")).timeout(requestTimeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(spec.body().encode())).build();
        try {
            HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
            if (r.statusCode() != 200) {
                String body = String.join("\n", r.body().toList());
                return new Outcome(spec.name(), tokens, null, "HTTP " + r.statusCode() + " " + body);
            }
            String finish = null;
            boolean doneSeen = false;
            try (Stream<String> lines = r.body()) {
                for (String line : (Iterable<String>) lines::iterator) {
                    if (!line.startsWith("data: ")) continue;
                    String data = line.substring("data: ".length());
                    if (data.equals("[DONE]")) {
                        doneSeen = true;
                        continue;
                    }
                    JsonObject chunk = new JsonObject(data);
                    if (chunk.getJsonObject("error") != null) {
                        return new Outcome(spec.name(), tokens, finish, "error event: " + data);
                    }
                    JsonArray choices = chunk.getJsonArray("choices");
                    if (choices == null || choices.isEmpty()) continue;
                    JsonObject choice = choices.getJsonObject(0);
                    if (choice.getString("finish_reason") != null) finish = choice.getString("finish_reason");
                    JsonObject lp = choice.getJsonObject("logprobs");
                    if (lp != null) {
                        for (Object t : lp.getJsonArray("tokens")) tokens.add((String) t);
                        received.set(tokens.size());
                    }
                }
            }
            if (!doneSeen) return new Outcome(spec.name(), tokens, finish, "the stream ended without [DONE]");
            if (tokens.size() != spec.maxTokens() || !"length".equals(finish)) {
                return new Outcome(spec.name(), tokens, finish, tokens.size() + " of " + spec.maxTokens()
                        + " tokens, finish_reason " + finish);
            }
            return new Outcome(spec.name(), tokens, finish, null);
        } catch (Exception e) {
            return new Outcome(spec.name(), tokens, null, e.toString());
        }
    }

    @Override
    public void close() {
        threads.shutdownNow();
        http.close();
    }
}
