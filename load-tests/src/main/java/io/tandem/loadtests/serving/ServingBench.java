package io.tandem.loadtests.serving;

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
import java.util.Locale;
import java.util.Map;

/**
 * The serving comparison's command line.
 * <pre>
 * ServingBench run --url http://127.0.0.1:PORT --label NAME --out FILE.json [--concurrency 1,8,16]
 *     [--window-seconds 40] [--drain-seconds 60] [--warmup-requests 8] [--warmup-short 0] [--prompt-tokens 256] [--max-tokens 128] [--vocab 32000]
 *     [--seed 1] [--gateway-metrics]
 * ServingBench compare BASELINE.json[,ROUND2.json..] CANDIDATE.json[,ROUND2.json..] [--names BASELINE,CANDIDATE]
 *     [--slo-ttft-ms 1000] [--slo-tpot-ms 100] [--json]
 * </pre>
 * {@code run} loads one server level by level and writes its results; {@code --gateway-metrics} also scrapes the
 * server's {@code /metrics} around the highest level (Tandem's router decision and gateway overhead histograms);
 * {@code --warmup-short N} first sends N short requests (8-token prompts, 1 output token, 4 at a time) so that the
 * server's per-request code is compiled, as in a server that has been serving for a while.
 * Progress goes to stderr ({@link Progress}): a bar on a terminal, a line every 10 s in a log.
 * {@code compare} prints the two runs side by side with the candidate's ratios against issue 12's targets; with
 * several rounds of each (comma-separated files, round i of one beside round i of the other) the medians
 * ({@link Comparison}), and each side's goodput at the SLO ({@link Slo}, by default {@link Slo#CHAT}).
 */
public final class ServingBench {

    public static void main(String[] args) throws IOException {
        if (args.length == 0) usage("a command: run or compare");
        switch (args[0]) {
            case "run" -> run(options(Arrays.copyOfRange(args, 1, args.length)));
            case "compare" -> compare(Arrays.copyOfRange(args, 1, args.length));
            default -> usage("a command: run or compare, not '" + args[0] + "'");
        }
    }

    private static final int SHORT_PROMPT_TOKENS = 8, SHORT_CONCURRENCY = 4;
    private static final long SHORT_WARMUP_LIMIT = 300_000_000_000L;
    private static final String COMPARE_USAGE = "compare BASELINE.json[,ROUND2.json..] CANDIDATE.json[,ROUND2.json..]"
            + " [--names BASELINE,CANDIDATE] [--slo-ttft-ms 1000] [--slo-tpot-ms 100] [--json]";

    private static void run(Map<String, String> o) throws IOException {
        String url = required(o, "url");
        Path out = Path.of(required(o, "out"));
        int[] levels = Arrays.stream(o.getOrDefault("concurrency", "1,8,16").split(",")).mapToInt(Integer::parseInt).toArray();
        long window = (long) (Double.parseDouble(o.getOrDefault("window-seconds", "40")) * 1e9);
        long drain = (long) (Double.parseDouble(o.getOrDefault("drain-seconds", "60")) * 1e9);
        int warmup = Integer.parseInt(o.getOrDefault("warmup-requests", "8"));
        int warmupShort = Integer.parseInt(o.getOrDefault("warmup-short", "0"));
        int promptTokens = Integer.parseInt(o.getOrDefault("prompt-tokens", "256"));
        int maxTokens = Integer.parseInt(o.getOrDefault("max-tokens", "128"));
        Prompts prompts = new Prompts(Long.parseLong(o.getOrDefault("seed", "1")), promptTokens,
                Integer.parseInt(o.getOrDefault("vocab", "32000")));
        boolean gatewayMetrics = o.containsKey("gateway-metrics");
        int top = Arrays.stream(levels).max().orElseThrow();
        String label = o.getOrDefault("label", url);

        try (ClosedLoop probe = new ClosedLoop(url, "", prompts, maxTokens)) {
            String model = o.containsKey("model") ? o.get("model")
                    : new JsonObject(probe.get(url, "/v1/models")).getJsonArray("data").getJsonObject(0).getString("id");
            if (warmupShort > 0) {
                // a server's per-request code (parsing, routing, accept) runs a few times per request: thousands of
                // requests go by before the JIT has compiled it, which a serving deployment is long past
                log(label + ": warm-up, " + warmupShort + " short requests (" + SHORT_PROMPT_TOKENS
                        + "-token prompts, 1 output token) at concurrency " + SHORT_CONCURRENCY);
                Prompts shortPrompts = new Prompts(Long.parseLong(o.getOrDefault("seed", "1")) + 1, SHORT_PROMPT_TOKENS,
                        Integer.parseInt(o.getOrDefault("vocab", "32000")));
                try (ClosedLoop brief = new ClosedLoop(url, model, shortPrompts, 1)) {
                    long failed;
                    try (Progress p = Progress.onStderr(label + " short warm-up", "requests", warmupShort)) {
                        failed = brief.run(SHORT_CONCURRENCY, SHORT_WARMUP_LIMIT, warmupShort, drain, p::update).stream()
                                .filter(d -> !d.outcome().ok()).count();
                    }
                    if (failed > 0) log(label + ": " + failed + " short warm-up request(s) failed");
                }
            }
            try (ClosedLoop load = new ClosedLoop(url, model, prompts, maxTokens)) {
                if (warmup > 0) {
                    int c = Math.min(warmup, top);
                    log(label + ": warm-up, " + warmup + " requests at concurrency " + c);
                    long failed;
                    try (Progress p = Progress.onStderr(label + " warm-up", "requests", warmup)) {
                        failed = load.run(c, drain, warmup, 0, p::update).stream().filter(d -> !d.outcome().ok()).count();
                    }
                    if (failed > 0) log(label + ": " + failed + " warm-up request(s) failed");
                }
                JsonArray results = new JsonArray();
                for (int c : levels) {
                    log(label + ": concurrency " + c + " for " + window / 1e9 + " s");
                    boolean scrape = gatewayMetrics && c == top;
                    PrometheusText before = scrape ? PrometheusText.parse(probe.get(url, "/metrics")) : null;
                    long start = System.nanoTime();
                    List<ClosedLoop.Done> done;
                    // the level lasts a time, not a count: the requests so far and the time left in the window
                    try (Progress p = Progress.onStderr(label + " c=" + c, "requests", 0)) {
                        done = load.run(c, window, Integer.MAX_VALUE, drain, n -> p.update(n, windowLeft(start, window)));
                    }
                    JsonObject gateway = scrape ? gatewayShare(before, PrometheusText.parse(probe.get(url, "/metrics"))) : null;
                    LevelResult r = level(c, start, window, done, gateway);
                    log(String.format("%s: c=%d  %.1f out tok/s  TTFT p50 %.0f ms  ITL p99 %.1f ms  (%d requests, %d cut at the end, %d failed)",
                            label, c, r.outTokensPerSec(), r.ttftMs().p50(), r.itlMs().p99(), r.requests(), r.cut(), r.failed()));
                    results.add(r.toJson());
                }
                JsonObject run = new JsonObject().put("label", label).put("url", url).put("model", model)
                        .put("prompt_tokens", promptTokens).put("max_tokens", maxTokens).put("levels", results);
                Files.writeString(out, run.encodePrettily());
            }
        }
    }

    static LevelResult level(int concurrency, long start, long window, List<ClosedLoop.Done> done, JsonObject gateway) {
        long end = start + window;
        long lastEvent = start;
        List<long[]> itl = new ArrayList<>();
        List<Long> ttft = new ArrayList<>();
        List<RequestTiming> timings = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        long tokens = 0;
        int failed = 0, cut = 0;
        for (ClosedLoop.Done d : done) {
            StreamTimer.Outcome o = d.outcome();
            tokens += o.tokensBetween(start, end);
            for (long t : o.eventNanos()) lastEvent = Math.max(lastEvent, t);
            if (!o.ok()) {
                failed++;
                if (errors.size() < 5) errors.add(o.error());
                continue;
            }
            if (o.cut()) cut++;
            if (o.ttftNanos() >= 0) ttft.add(o.ttftNanos());
            itl.add(o.itlNanos());
            RequestTiming timing = RequestTiming.of(o);
            if (timing != null) timings.add(timing);
        }
        double seconds = (Math.min(end, lastEvent) - start) / 1e9;
        long[] allItl = itl.stream().flatMapToLong(Arrays::stream).toArray();
        return new LevelResult(concurrency, seconds, seconds > 0 ? tokens / seconds : 0, done.size(), cut, failed,
                Summary.ofNanos(ttft.stream().mapToLong(Long::longValue).toArray()), Summary.ofNanos(allItl), errors,
                gateway, List.copyOf(timings));
    }

    /** Tandem's own share over the window between two scrapes, in milliseconds (buckets' p50/p99 and counts). */
    static JsonObject gatewayShare(PrometheusText before, PrometheusText after) {
        JsonObject share = new JsonObject();
        share.put("router_decision_ms", histogram(before, after, "tandem_router_decision_seconds", Map.of()));
        share.put("overhead_admit_ms", histogram(before, after, "tandem_gateway_overhead_seconds", Map.of("phase", "admit")));
        share.put("overhead_token_ms", histogram(before, after, "tandem_gateway_overhead_seconds", Map.of("phase", "token")));
        return share;
    }

    private static JsonObject histogram(PrometheusText before, PrometheusText after, String name, Map<String, String> match) {
        return new JsonObject()
                .put("count", PrometheusText.windowCount(before, after, name, match))
                .put("p50", PrometheusText.windowQuantile(before, after, name, match, 0.50) * 1e3)
                .put("p99", PrometheusText.windowQuantile(before, after, name, match, 0.99) * 1e3);
    }

    private static void compare(String[] args) throws IOException {
        List<String> files = new ArrayList<>();
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--json")) o.put("json", "true");
            else if (args[i].startsWith("--") && i + 1 < args.length) o.put(args[i].substring(2), args[++i]);
            else if (args[i].startsWith("--")) usage("a value after " + args[i]);
            else files.add(args[i]);
        }
        o.keySet().stream().filter(k -> !List.of("json", "names", "slo-ttft-ms", "slo-tpot-ms").contains(k)).findFirst()
                .ifPresent(k -> usage("a compare option, not --" + k));
        if (files.size() != 2) usage(COMPARE_USAGE);
        List<JsonObject> baselines = rounds(files.get(0)), candidates = rounds(files.get(1));
        if (baselines.size() != candidates.size()) usage("as many candidate rounds as baseline rounds");
        Comparison comparison = Comparison.of(baselines, candidates);
        if (o.containsKey("names")) {
            String[] names = o.get("names").split(",", -1);
            if (names.length != 2 || names[0].isBlank() || names[1].isBlank()) usage("--names BASELINE,CANDIDATE");
            comparison = comparison.named(names[0], names[1]);
        }
        Slo slo;
        try {
            slo = new Slo(o.containsKey("slo-ttft-ms") ? Double.parseDouble(o.get("slo-ttft-ms")) : Slo.CHAT.ttftMs(),
                    o.containsKey("slo-tpot-ms") ? Double.parseDouble(o.get("slo-tpot-ms")) : Slo.CHAT.tpotMs());
        } catch (IllegalArgumentException e) {
            usage("--slo-ttft-ms and --slo-tpot-ms as numbers > 0 (" + e.getMessage() + ")");
            return;
        }
        System.out.println(o.containsKey("json") ? comparison.toJson(slo).encodePrettily() : comparison.table(slo));
    }

    /** The runs named by a comma-separated list of result files, one per round. */
    private static List<JsonObject> rounds(String files) throws IOException {
        List<JsonObject> runs = new ArrayList<>();
        for (String f : files.split(",")) runs.add(new JsonObject(Files.readString(Path.of(f))));
        return runs;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) usage("an option, not '" + args[i] + "'");
            String key = args[i].substring(2);
            if (key.equals("gateway-metrics")) o.put(key, "true");
            else if (i + 1 < args.length) o.put(key, args[++i]);
            else usage("a value after --" + key);
        }
        return o;
    }

    private static String required(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) usage("--" + key);
        return v;
    }

    private static void usage(String missing) {
        System.err.println("ServingBench: expected " + missing + "\n"
                + "  run --url URL --out FILE.json [--label NAME] [--model NAME] [--concurrency 1,8,16] [--window-seconds 40]\n"
                + "      [--drain-seconds 60] [--warmup-requests 8] [--warmup-short 0] [--prompt-tokens 256] [--max-tokens 128] [--vocab 32000] [--seed 1] [--gateway-metrics]\n"
                + "  " + COMPARE_USAGE);
        System.exit(2);
    }

    private static String windowLeft(long start, long window) {
        long left = start + window - System.nanoTime();
        return left > 0 ? String.format(Locale.ROOT, "%.0f s left in the window", left / 1e9) : "draining";
    }

    private static void log(String line) {
        System.err.println(line);
    }
}
