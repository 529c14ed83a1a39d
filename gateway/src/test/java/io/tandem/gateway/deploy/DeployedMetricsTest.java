package io.tandem.gateway.deploy;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.protocol.WorkerRole;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import io.tandem.gateway.grpc.GrpcTestClient;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcClient;
import io.tandem.protocol.grpc.inference.ServerLiveRequest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.tandem.gateway.it.TestSupport.chat;
import static io.tandem.gateway.it.TestSupport.sync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every metric that deploy/grafana/tandem.json and deploy/prometheus/rules.yaml query is one Tandem exports: the names
 * come from their PromQL ({@link PromQlMetricNames}) and are looked up among the samples of real /metrics pages — an
 * embedded gateway with a worker that serves its own /metrics (as a -cluster worker does), and a disaggregated embedded
 * gateway (one prefill, one decode worker, KV over tcp) — scraped after requests, so that lazily created meters exist.
 */
class DeployedMetricsTest {
    private static final Path DASHBOARD = TestSupport.repoRoot().resolve("deploy/grafana/tandem.json");
    private static final Path RULES = TestSupport.repoRoot().resolve("deploy/prometheus/rules.yaml");
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE);

    private static final Set<String> exported = new TreeSet<>();

    @BeforeAll
    static void scrapeRealGateways() throws Exception {
        exported.addAll(scrapeAggregatedGatewayAndItsWorker());
        exported.addAll(scrapeDisaggregatedGateway(DisaggregationOptions.DEFAULTS.prefillTimeoutMillis(), "where=\"remote\""));
        exported.addAll(scrapeDisaggregatedGateway(1, "tandem_prefill_fallbacks_total{"));
    }

    @Test
    void everyMetricTheDashboardQueriesIsExported() throws IOException {
        Map<String, Set<String>> queried = dashboardQueries();
        assertFalse(queried.isEmpty(), "the dashboard has PromQL expressions");
        assertAllExported(queried, rulesAndRecords().records());
    }

    @Test
    void everyMetricTheAlertingRulesQueryIsExported() throws IOException {
        RuleSet rules = rulesAndRecords();
        assertFalse(rules.expressions().isEmpty(), "rules.yaml has rules");
        assertAllExported(rules.expressions(), rules.records());
    }

    /** The HorizontalPodAutoscalers' metric: prometheus-adapter serves it from series the gateway exports. */
    @Test
    @SuppressWarnings("unchecked")
    void theSeriesTheAutoscalersScaleOnAreExported() throws IOException {
        Path adapter = TestSupport.repoRoot().resolve("deploy/k8s/prometheus-adapter/values.yaml");
        Map<String, Object> values = new Yaml().load(Files.readString(adapter));
        Map<String, Set<String>> queried = new TreeMap<>();
        for (Map<String, Object> rule : (List<Map<String, Object>>) ((Map<String, Object>) values.get("rules")).get("external")) {
            queried.put("prometheus-adapter " + rule.get("seriesQuery"), PromQlMetricNames.of((String) rule.get("seriesQuery")));
        }
        assertFalse(queried.isEmpty(), "the adapter has external rules");
        assertAllExported(queried, Set.of());
        assertTrue(exported.contains("tandem_planner_recommended_workers"), "the planner's own gauge: " + exported);
    }

    @Test
    void theDashboardCoversWhatOperatorsLookAt() throws IOException {
        JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
        Set<String> titles = new HashSet<>();
        collect(dashboard, "title", titles);
        for (String needed : List.of("Request rate", "Errors", "TTFT", "Inter-token latency", "Queue length", "KV usage",
                "Prefix-hit rate", "Remote vs local prefills", "Transfer bytes", "Exposed transfer time", "Migrations")) {
            assertTrue(titles.stream().anyMatch(t -> t.startsWith(needed)), "a panel titled " + needed + "…: " + titles);
        }
        JsonArray variables = dashboard.getJsonObject("templating").getJsonArray("list");
        assertTrue(variables.stream().map(JsonObject.class::cast).anyMatch(v -> "datasource".equals(v.getString("type"))
                && "prometheus".equals(v.getString("query"))), "the Prometheus data source is a variable");
    }

    @Test
    void theAlertsOperatorsNeedExist() throws IOException {
        Set<String> alerts = rulesAndRecords().alerts();
        for (String needed : List.of("TandemNoReadyWorker", "TandemHighErrorRatio", "TandemTtftP99OverSlo",
                "TandemKvCacheNearlyFull", "TandemTransferFailures")) {
            assertTrue(alerts.contains(needed), needed + " in " + alerts);
        }
    }

    /** promtool (Prometheus's own checker) validates rules.yaml and runs its unit tests, rules_test.yaml. */
    @Test
    void promtoolAcceptsTheRulesAndTheAlertsFireAsTheirUnitTestsSay() throws Exception {
        Optional<Path> promtool = onPath("promtool");
        Assumptions.assumeTrue(promtool.isPresent(), "promtool is not installed (Debian: prometheus): rules not run through it");
        run(promtool.get().toString(), "check", "rules", RULES.toString());
        run(promtool.get().toString(), "test", "rules", RULES.resolveSibling("rules_test.yaml").toString());
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " finished");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ":\n" + out);
    }

    static Optional<Path> onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) return Optional.empty();
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, program);
            if (Files.isExecutable(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }

    private static void assertAllExported(Map<String, Set<String>> queried, Set<String> records) {
        List<String> missing = new ArrayList<>();
        queried.forEach((where, names) -> {
            for (String name : names) {
                if (!exported.contains(name) && !records.contains(name)) missing.add(name + " (" + where + ")");
            }
        });
        assertTrue(missing.isEmpty(), "queried but not exported by Tandem: " + missing + "\nexported: " + exported);
    }

    // ---- the files

    /** Panel title (or variable name) → metric names its expressions select. */
    private static Map<String, Set<String>> dashboardQueries() throws IOException {
        JsonObject dashboard = new JsonObject(Files.readString(DASHBOARD));
        Map<String, Set<String>> out = new TreeMap<>();
        walkPanels(dashboard.getJsonArray("panels", new JsonArray()), out);
        for (Object o : dashboard.getJsonObject("templating").getJsonArray("list")) {
            JsonObject v = (JsonObject) o;
            if (!"query".equals(v.getString("type"))) continue;
            Object q = v.getValue("query");
            String query = q instanceof JsonObject j ? j.getString("query") : (String) q;
            out.put("variable " + v.getString("name"), labelValuesMetric(query));
        }
        return out;
    }

    private static void walkPanels(JsonArray panels, Map<String, Set<String>> out) {
        for (Object o : panels) {
            JsonObject panel = (JsonObject) o;
            Set<String> names = new TreeSet<>();
            for (Object t : panel.getJsonArray("targets", new JsonArray())) {
                String expr = ((JsonObject) t).getString("expr");
                if (expr != null) names.addAll(PromQlMetricNames.of(expr));
            }
            if (!names.isEmpty()) out.put("panel " + panel.getString("title"), names);
            walkPanels(panel.getJsonArray("panels", new JsonArray()), out);
        }
    }

    /** {@code label_values(metric{…}, label)} → metric; {@code label_values(label)} names none. */
    static Set<String> labelValuesMetric(String query) {
        Matcher m = Pattern.compile("label_values\\(\\s*(.+),\\s*\\w+\\s*\\)").matcher(query);
        return m.matches() ? PromQlMetricNames.of(m.group(1)) : PromQlMetricNames.of(query);
    }

    record RuleSet(Map<String, Set<String>> expressions, Set<String> records, Set<String> alerts) {}

    @SuppressWarnings("unchecked")
    private static RuleSet rulesAndRecords() throws IOException {
        Map<String, Object> doc = new Yaml().load(Files.readString(RULES));
        Map<String, Set<String>> expressions = new TreeMap<>();
        Set<String> records = new TreeSet<>();
        Set<String> alerts = new TreeSet<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) doc.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                String name = rule.containsKey("alert") ? (String) rule.get("alert") : (String) rule.get("record");
                if (rule.containsKey("alert")) alerts.add(name);
                else records.add(name);
                expressions.put(group.get("name") + "/" + name, PromQlMetricNames.of(String.valueOf(rule.get("expr"))));
            }
        }
        return new RuleSet(expressions, records, alerts);
    }

    private static void collect(Object node, String key, Set<String> into) {
        if (node instanceof JsonObject o) {
            o.forEach(e -> {
                if (e.getKey().equals(key) && e.getValue() instanceof String s) into.add(s);
                else collect(e.getValue(), key, into);
            });
        } else if (node instanceof JsonArray a) {
            a.forEach(v -> collect(v, key, into));
        }
    }

    // ---- real /metrics pages

    /**
     * The sim engine, 5 ms a token, each worker running one sequence with one more waiting, so that a burst waits in
     * the gateway's queue; one more worker deployed with its own HTTP server, as a -cluster worker has; a gRPC call.
     */
    private static Set<String> scrapeAggregatedGatewayAndItsWorker() throws Exception {
        GatewayOptions options = TestSupport.options(5).setPrefillWorkers(0);
        Map<String, Object> engine = new HashMap<>(options.engineOptions());
        engine.put("maxRunningSequences", 1);
        engine.put("maxWaitingRequests", 1);
        Gateway gateway = TestSupport.start(options.setEngineOptions(engine));
        try {
            DeployedWorker worker = sync(WorkerDeployment.deploy(gateway.vertx(), gateway.registry(),
                    WorkerOptions.defaults(WorkerRole.BOTH).withEngine("sim", engine).withHttp("127.0.0.1", 0)));
            try (Http http = new Http(gateway.port()); Http workerHttp = new Http(worker.httpPort());
                 GrpcTestClient grpc = new GrpcTestClient(gateway.grpcPort())) {
                String model = http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
                assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ServerLive, ServerLiveRequest.getDefaultInstance()).single().getLive());
                assertEquals(400, http.post("/v1/chat/completions", new JsonObject().put("model", model)).status());
                burst(gateway.port(), model, 8);
                String page = http.get("/metrics").body();
                assertTrue(page.contains("tandem_gateway_queue_length{"), "the burst waited in the gateway's queue");
                Set<String> names = sampleNames(page);
                names.addAll(sampleNames(workerHttp.get("/metrics").body()));
                return names;
            }
        } finally {
            sync(gateway.stop());
        }
    }

    /** {@code n} streamed and unstreamed chat completions at once; every one must succeed. */
    private static void burst(int port, String model, int n) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String body = chat(model, "hello number " + i).put("max_tokens", 20).put("ignore_eos", true).put("stream", i % 2 == 0).encode();
            replies.add(client.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(60)).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> r : replies) {
            HttpResponse<String> reply = r.get(90, TimeUnit.SECONDS);
            assertEquals(200, reply.statusCode(), reply.body());
        }
    }

    /**
     * The CPU engine on the tiny test model: prompts longer than 4 uncached tokens go to the prefill worker. With
     * {@code prefillTimeoutMillis} of 1 the decode worker gives up on the remote prefill and prefills locally (a
     * fallback, the counter the transfer-failure alert reads).
     */
    private static Set<String> scrapeDisaggregatedGateway(long prefillTimeoutMillis, String mustShow) {
        Path model = TestSupport.repoRoot().resolve("testdata/models/tiny-llama-spm-f32.gguf");
        Gateway gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0)
                .setModels(List.of(model)).setEngine("cpu")
                .setEngineOptions(Map.of("threads", 1, "kv-cache-memory", "32MiB", "kv-dtype", "f32"))
                .setPrefillWorkers(1)
                .setDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer("tcp").withMaxLocalPrefillTokens(4)
                        .withPrefillTimeoutMillis(prefillTimeoutMillis)));
        try (Http http = new Http(gateway.port())) {
            String id = http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
            for (int i = 0; i < 3; i++) {
                assertEquals(200, http.post("/v1/chat/completions", chat(id, "tell me a long story about the number " + i
                        + " and the sea and the mountains").put("max_tokens", 3)).status());
            }
            String page = http.get("/metrics").body();
            assertTrue(page.contains(mustShow), "the /metrics page shows " + mustShow);
            return sampleNames(page);
        } finally {
            sync(gateway.stop());
        }
    }

    static Set<String> sampleNames(String prometheusText) {
        Set<String> names = new TreeSet<>();
        Matcher m = SAMPLE.matcher(prometheusText);
        while (m.find()) names.add(m.group(1));
        if (names.isEmpty()) fail("no samples in a /metrics page:\n" + prometheusText);
        if (Boolean.getBoolean("tandem.deploy.dumpMetrics")) System.out.println("METRICS " + names);
        return names;
    }
}
