package io.tandem.loadtests.grpc;

import io.tandem.loadtests.serving.Summary;
import io.tandem.protocol.progress.Progress;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A bounded gRPC load run.
 * <pre>
 * GrpcBench --target HOST:PORT [--model NAME] [--concurrency 1,8,32] [--requests 64] [--max-tokens 64]
 *     [--warmup 8] [--timeout-seconds 120] [--out FILE.json]
 * </pre>
 * For each concurrency level, {@code --requests} ModelStreamInfer requests ({@link StreamLoad}); prints one line per
 * level (failures, requests/s, output tokens/s, TTFT and piece-gap percentiles) and writes them as JSON. Progress within a
 * level goes to stderr ({@link Progress}). Exits 1 when
 * any request failed.
 */
public final class GrpcBench {

    public static void main(String[] args) throws IOException {
        Map<String, String> o = options(args);
        String[] target = o.getOrDefault("target", "127.0.0.1:8001").split(":");
        String model = o.getOrDefault("model", "tandem-fortune-5m");
        int[] levels = Arrays.stream(o.getOrDefault("concurrency", "1,8,32").split(",")).mapToInt(Integer::parseInt).toArray();
        int requests = Integer.parseInt(o.getOrDefault("requests", "64"));
        int maxTokens = Integer.parseInt(o.getOrDefault("max-tokens", "64"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "8"));
        long timeout = Long.parseLong(o.getOrDefault("timeout-seconds", "120"));

        long failures = 0;
        JsonArray results = new JsonArray();
        try (StreamLoad load = new StreamLoad(target[0], Integer.parseInt(target[1]), model, maxTokens, timeout)) {
            if (warmup > 0) {
                long failed;
                try (Progress p = Progress.onStderr("grpc warm-up", "requests", warmup)) {
                    failed = load.run(Math.min(warmup, 4), warmup, p::update).stream().filter(d -> !d.outcome().ok()).count();
                }
                log("warm-up: " + warmup + " requests, " + failed + " failed");
            }
            for (int c : levels) {
                List<StreamLoad.Done> done;
                try (Progress p = Progress.onStderr("grpc c=" + c, "requests", requests)) {
                    done = load.run(c, requests, p::update);
                }
                JsonObject level = level(c, done);
                failures += level.getLong("failed");
                results.add(level);
                log(String.format("c=%d: %d requests, %d failed, %.1f req/s, %.1f out tok/s, TTFT p50 %.1f ms p99 %.1f ms, "
                                + "piece gap p50 %.2f ms p99 %.2f ms", c, level.getInteger("requests"), level.getLong("failed"),
                        level.getDouble("requests_per_s"), level.getDouble("output_tokens_per_s"),
                        level.getJsonObject("ttft_ms").getDouble("p50"), level.getJsonObject("ttft_ms").getDouble("p99"),
                        level.getJsonObject("piece_gap_ms").getDouble("p50"), level.getJsonObject("piece_gap_ms").getDouble("p99")));
                done.stream().filter(d -> !d.outcome().ok()).limit(3).forEach(d -> log("  failed: " + d.outcome().error()));
            }
        }
        JsonObject run = new JsonObject().put("target", String.join(":", target)).put("model", model)
                .put("max_tokens", maxTokens).put("requests_per_level", requests).put("levels", results);
        if (o.containsKey("out")) Files.writeString(Path.of(o.get("out")), run.encodePrettily());
        System.exit(failures == 0 ? 0 : 1);
    }

    static JsonObject level(int concurrency, List<StreamLoad.Done> done) {
        long start = done.stream().mapToLong(StreamLoad.Done::sentNanos).min().orElse(0);
        long end = done.stream().mapToLong(StreamLoad.Done::endNanos).max().orElse(0);
        double seconds = (end - start) / 1e9;
        List<Long> ttft = new ArrayList<>();
        List<long[]> gaps = new ArrayList<>();
        long tokens = 0, failed = 0;
        for (StreamLoad.Done d : done) {
            KServeStream.Outcome o = d.outcome();
            if (!o.ok()) {
                failed++;
                continue;
            }
            tokens += o.completionTokens();
            if (o.ttftNanos() >= 0) ttft.add(o.ttftNanos());
            gaps.add(o.gapNanos());
        }
        return new JsonObject().put("concurrency", concurrency).put("requests", done.size()).put("failed", failed)
                .put("seconds", seconds)
                .put("requests_per_s", seconds > 0 ? done.size() / seconds : 0)
                .put("output_tokens_per_s", seconds > 0 ? tokens / seconds : 0)
                .put("ttft_ms", Summary.ofNanos(ttft.stream().mapToLong(Long::longValue).toArray()).toJson())
                .put("piece_gap_ms", Summary.ofNanos(gaps.stream().flatMapToLong(Arrays::stream).toArray()).toJson());
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("GrpcBench: expected --option VALUE pairs, got '" + args[i] + "'\n"
                        + "  --target HOST:PORT [--model NAME] [--concurrency 1,8,32] [--requests 64] [--max-tokens 64]"
                        + " [--warmup 8] [--timeout-seconds 120] [--out FILE.json]");
                System.exit(2);
            }
            o.put(args[i].substring(2), args[++i]);
        }
        return o;
    }

    private static void log(String line) {
        System.err.println(line);
    }
}
