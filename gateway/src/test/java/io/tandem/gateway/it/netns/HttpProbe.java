package io.tandem.gateway.it.netns;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The test's HTTP client for gateways and workers: completions as token ids, status codes, Prometheus samples. */
final class HttpProbe {
    // HTTP/1.1: the JDK client's h2c upgrade against Vert.x once left a send() hanging past its timeout
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    /** The status of a GET, or -1 when nothing answers. */
    int status(String url) {
        try {
            return get(url).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonObject getJson(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = get(url);
        if (r.statusCode() != 200) throw new AssertionError("GET " + url + " answered " + r.statusCode() + ": " + r.body());
        return new JsonObject(r.body());
    }

    /** The sum of every sample of {@code family} in {@code base}/metrics whose labels contain {@code labels}; -1 when it does not answer. */
    double metric(String base, String family, String labels) {
        Pattern sample = Pattern.compile("^" + Pattern.quote(family) + "\\{([^}]*)} ([-+0-9.eE]+)$", Pattern.MULTILINE);
        try {
            Matcher m = sample.matcher(get(base + "/metrics").body());
            double total = 0;
            while (m.find()) if (m.group(1).contains(labels)) total += Double.parseDouble(m.group(2));
            return total;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Tandem's own lines of {@code base}/metrics, for failure messages and the log. */
    String tandemMetrics(String base) {
        try {
            return get(base + "/metrics").body().lines().filter(l -> l.startsWith("tandem_") && !l.contains("_bucket{"))
                    .collect(Collectors.joining("\n"));
        } catch (IOException | InterruptedException e) {
            return "(no metrics from " + base + ": " + e + ")";
        }
    }

    /** Sends every prompt at once (greedy, 16 tokens, EOS ignored) and returns each answer's token ids, by prompt name. */
    Map<String, String> complete(String base, String model, Map<String, JsonArray> prompts) throws Exception {
        Map<String, CompletableFuture<String>> all = new LinkedHashMap<>();
        prompts.forEach((name, p) -> all.put(name, completeAsync(base, model, p)));
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : all.entrySet()) out.put(e.getKey(), e.getValue().get(90, TimeUnit.SECONDS));
        return out;
    }

    private CompletableFuture<String> completeAsync(String base, String model, JsonArray prompt) {
        JsonObject body = new JsonObject().put("model", model).put("prompt", prompt).put("max_tokens", 16)
                .put("temperature", 0).put("ignore_eos", true).put("logprobs", 1).put("return_tokens_as_token_ids", true);
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/completions")).timeout(Duration.ofSeconds(80))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            if (r.statusCode() != 200) throw new AssertionError("POST " + base + "/v1/completions: " + r.statusCode() + " " + r.body());
            List<String> tokens = new ArrayList<>();
            for (Object t : new JsonObject(r.body()).getJsonArray("choices").getJsonObject(0).getJsonObject("logprobs")
                    .getJsonArray("tokens")) {
                tokens.add(t.toString());
            }
            return String.join(",", tokens);
        });
    }
}
