package io.tandem.gateway;

import io.tandem.gateway.router.RouterMode;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar gateway.jar}: the embedded all-in-one by default, a cluster member with
 * {@code -cluster}. Settings come from {@code --conf FILE} (default {@code conf/gateway.json}
 * when present), flags override them.
 */
@Command(name = "gateway.jar", mixinStandardHelpOptions = true, sortOptions = false, versionProvider = GatewayMain.Version.class,
        description = "Tandem's OpenAI-compatible gateway. Without -cluster it runs embedded: one prefill and one "
                + "decode worker in this JVM on the bundled model.")
public final class GatewayMain implements Callable<Integer> {

    @Option(names = "--conf", paramLabel = "FILE", description = "JSON settings (keys: the long flag names). Default: conf/gateway.json if present.")
    Path conf;
    @Option(names = "--host", description = "Address to bind (default 0.0.0.0).")
    String host;
    @Option(names = "--port", description = "HTTP port; 0 picks a free one (default 8000).")
    Integer port;
    @Option(names = "--model", paramLabel = "PATH", description = "GGUF model to serve (repeatable; default: the bundled model).")
    List<Path> models;
    @Option(names = "--engine", description = "Engine of the embedded workers: cpu (real inference) or sim (timing model) (default cpu).")
    String engine;
    @Option(names = "--engine-option", paramLabel = "KEY=VALUE", description = "Engine setting of the embedded workers, repeatable (cpu: threads, kv-cache-memory, kv-dtype, max-num-batched-tokens, max-num-seqs, prefix-caching; sim: decodeStepNanos, ...).")
    java.util.Map<String, String> engineOptions;
    @Option(names = "--threads", paramLabel = "N", description = "Compute threads of each embedded cpu engine (default: all cores).")
    Integer threads;
    @Option(names = "--prefill-workers", paramLabel = "N", description = "Embedded mode: prefill workers beside the decode worker; 0 = aggregated, one worker doing both (default 1).")
    Integer prefillWorkers;
    @Option(names = "--max-local-prefill-tokens", paramLabel = "N", description = "Embedded mode: prompts with more uncached tokens than N are prefilled on a prefill worker (default 128).")
    Integer maxLocalPrefillTokens;
    @Option(names = "--transfer", paramLabel = "BACKEND", description = "Embedded mode: KV transfer backend tcp, shm, ucx, nixl or auto (default auto: shm between the embedded workers).")
    String transfer;
    @Option(names = "--router", description = "kv (prefix-cache aware, the default), round-robin, random or least-loaded.")
    String router;
    @Option(names = "--no-kv-events", description = "KV routing without the workers' KV events: assume a routed prompt stays cached on its worker for 120 s (for workers that publish none).")
    boolean noKvEvents;
    @Option(names = "--router-prefill-weight", paramLabel = "W", description = "KV routing: cost of one uncached prompt block (default 1.0).")
    Double prefillWeight;
    @Option(names = "--router-load-weight", paramLabel = "W", description = "KV routing: cost of one block active on the worker (default 0.5).")
    Double loadWeight;
    @Option(names = "--router-temperature", paramLabel = "T", description = "KV routing: softmax temperature over costs, 0 picks the cheapest (default 0).")
    Double temperature;
    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on /v1/* (repeatable).")
    List<String> apiKeys;
    @Option(names = "--max-body-bytes", description = "Larger request bodies get 413 (default 4 MiB).")
    Long maxBodyBytes;
    @Option(names = "--request-timeout-seconds", description = "Upper bound on one request's life (default 600).")
    Double requestTimeoutSeconds;
    @Option(names = {"-cluster", "--cluster"}, description = "Join the Hazelcast cluster (conf/cluster.xml) and route to its workers.")
    Boolean cluster;
    @Option(names = {"-cluster-host", "--cluster-host"}, description = "Event-bus host in the cluster.")
    String clusterHost;
    @Option(names = {"-cluster-port", "--cluster-port"}, description = "Event-bus port in the cluster (default: free).")
    Integer clusterPort;
    @Option(names = "--cluster-config", paramLabel = "FILE", description = "Hazelcast config file (default conf/cluster.xml).")
    String clusterConfig;

    /** The jar's Implementation-Version (the Maven project version). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = GatewayMain.class.getPackage().getImplementationVersion();
            return new String[]{"Tandem gateway " + (v == null ? "(development build)" : v)};
        }
    }

    public static void main(String[] args) {
        int code = new CommandLine(new GatewayMain()).execute(args);
        if (code != 0) System.exit(code);
    }

    @Override
    public Integer call() throws Exception {
        GatewayOptions options;
        try {
            options = options();
        } catch (IllegalArgumentException | java.io.IOException | io.vertx.core.json.DecodeException e) {
            System.err.println("gateway: " + e.getMessage());
            return 2;
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(options).await(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            System.err.println("gateway: could not start: " + e.getMessage());
            return 1;
        }
        System.out.println("Tandem gateway listening on http://" + shownHost(options.host()) + ":" + gateway.port());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                gateway.stop().await(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // exiting anyway
            }
        }, "tandem-gateway-shutdown"));
        return 0; // Vert.x threads keep the JVM alive
    }

    /** The conf file's settings with the given flags on top. */
    GatewayOptions options() throws Exception {
        Path file = conf != null ? conf : Path.of("conf", "gateway.json");
        GatewayOptions o;
        if (conf != null || Files.isRegularFile(file)) {
            o = GatewayOptions.fromJson(new JsonObject(Files.readString(file)));
        } else {
            o = new GatewayOptions();
        }
        if (host != null) o.setHost(host);
        if (port != null) o.setPort(port);
        if (models != null) o.setModels(models);
        if (engine != null) o.setEngine(engine);
        if (engineOptions != null || threads != null) {
            java.util.Map<String, Object> merged = new java.util.LinkedHashMap<>(o.engineOptions());
            if (engineOptions != null) merged.putAll(engineOptions);
            if (threads != null) merged.put("threads", threads);
            o.setEngineOptions(merged);
        }
        if (router != null) o.setRouter(RouterMode.parse(router));
        if (prefillWorkers != null) o.setPrefillWorkers(prefillWorkers);
        if (maxLocalPrefillTokens != null) o.setDisaggregation(o.disaggregation().withMaxLocalPrefillTokens(maxLocalPrefillTokens));
        if (transfer != null) o.setDisaggregation(o.disaggregation().withTransfer(transfer.trim().toLowerCase(java.util.Locale.ROOT)));
        if (noKvEvents) o.setKvEvents(false);
        if (prefillWeight != null || loadWeight != null || temperature != null) {
            io.tandem.gateway.router.KvCostModel m = o.kvCostModel();
            o.setKvCostModel(new io.tandem.gateway.router.KvCostModel(prefillWeight != null ? prefillWeight : m.prefillWeight(),
                    loadWeight != null ? loadWeight : m.loadWeight(), temperature != null ? temperature : m.temperature()));
        }
        if (apiKeys != null) o.setApiKeys(apiKeys);
        if (maxBodyBytes != null) o.setMaxBodyBytes(maxBodyBytes);
        if (requestTimeoutSeconds != null) o.setRequestTimeoutMillis((long) (requestTimeoutSeconds * 1000));
        if (cluster != null) o.setCluster(cluster);
        if (clusterHost != null) o.setClusterHost(clusterHost);
        if (clusterPort != null) o.setClusterPort(clusterPort);
        if (clusterConfig != null) o.setClusterConfig(clusterConfig);
        return o;
    }

    private static String shownHost(String host) {
        return host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    }
}
