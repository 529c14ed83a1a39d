package io.tandem.gateway.it;

import io.tandem.gateway.soak.PrometheusText;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Gateways and workers as separate {@code java -jar … -cluster} processes on loopback, in a Hazelcast cluster of
 * their own (a fresh name and port range), with their logs under {@code gateway/target/it-logs}. Closing it
 * kills what is still running.
 */
final class ProcessCluster implements AutoCloseable {
    static final Path ROOT = TestSupport.repoRoot();
    /** The outcomes of tandem_worker_requests_total that count as served. */
    private static final List<String> SERVED_OUTCOMES = List.of("finished", "completed", "ok", "stop", "length");

    // HTTP/1.1: the JDK client's h2c upgrade against Vert.x once left a send() hanging past its timeout
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<JarProcess> processes = new ArrayList<>();
    private final Path logs;
    private final List<String> clusterProps;
    /** Every member's {@code TANDEM_CLUSTER_SECRET}, fresh per cluster, as a deployment would set it. */
    private final String secret = java.util.UUID.randomUUID().toString();

    ProcessCluster(String name) {
        logs = ROOT.resolve("gateway/target/it-logs/" + name + "-" + System.currentTimeMillis());
        clusterProps = List.of(
                "-Dtandem.cluster.name=it-" + UUID.randomUUID(),
                "-Dtandem.cluster.port=" + (6000 + ThreadLocalRandom.current().nextInt(0, 300) * 10),
                "-Dhazelcast.phone.home.enabled=false");
    }

    private static final Pattern WORKER_PORT = Pattern.compile("health and metrics on http://127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern GATEWAY_PORT = Pattern.compile("listening on http://[^:]+:(\\d+)");

    /**
     * The HTTP port a process chose for itself (started with port 0), read from its log: a port picked here and
     * handed over could be taken by one of the cluster's own outgoing connections before the process binds it.
     */
    int awaitPort(JarProcess p, Duration within) throws InterruptedException {
        int[] port = {0};
        awaitTrue(p + " prints its port", within, () -> {
            String out = p.output();
            Matcher worker = WORKER_PORT.matcher(out), gateway = GATEWAY_PORT.matcher(out);
            if (worker.find()) port[0] = Integer.parseInt(worker.group(1));
            else if (gateway.find()) port[0] = Integer.parseInt(gateway.group(1));
            return port[0] > 0 || !p.isAlive();
        });
        if (port[0] == 0) fail(p.describe());
        return port[0];
    }

    /** A worker on {@code port} (its /health and /metrics; 0 = its own choice, see {@link #awaitPort}) with extra flags. */
    JarProcess worker(String name, int port, String... flags) throws IOException {
        List<String> args = new ArrayList<>(List.of("-cluster", "--host", "127.0.0.1", "--port", String.valueOf(port)));
        args.addAll(List.of(flags));
        return start(name, "worker/target/worker.jar", args);
    }

    /** A gateway serving HTTP on {@code port} (and gRPC on a free port). */
    JarProcess gateway(String name, int port, String... flags) throws IOException {
        List<String> args = new ArrayList<>(List.of("-cluster", "--host", "127.0.0.1", "--port", String.valueOf(port),
                "--grpc-port", "0"));
        args.addAll(List.of(flags));
        return start(name, "gateway/target/gateway.jar", args);
    }

    private JarProcess start(String name, String jar, List<String> args) throws IOException {
        JarProcess p = JarProcess.start(name, ROOT.resolve(jar), logs, clusterProps, args,
                java.util.Map.of(io.tandem.protocol.auth.ClusterSecret.ENV, secret));
        processes.add(p);
        return p;
    }

    /** Requests a worker finished, from one read of its own Prometheus endpoint; -1 when it does not answer. */
    double served(int workerPort) {
        String page = metricsPage(workerPort);
        return page == null ? -1 : served(page);
    }

    /** Requests finished in a worker's {@code /metrics} page: its served outcomes' samples, summed. */
    static double served(String metricsPage) {
        Map<String, Double> byOutcome =
                new PrometheusText(metricsPage).byLabel("tandem_worker_requests_total", "outcome");
        return SERVED_OUTCOMES.stream().mapToDouble(o -> byOutcome.getOrDefault(o, 0.0)).sum();
    }

    /** The samples of metric {@code name} whose labels include {@code labels}. */
    record Sample(String name, Map<String, String> labels) {
        /** {@code name} with labels given as name, value, name, value, ... */
        static Sample of(String name, String... labelPairs) {
            Map<String, String> labels = new TreeMap<>();
            for (int i = 0; i < labelPairs.length; i += 2) labels.put(labelPairs[i], labelPairs[i + 1]);
            return new Sample(name, labels);
        }
    }

    /**
     * The sum of every {@code sample} in a process's /metrics, 0 when it has none, -1 when the process does not answer;
     * read with the gateway's own exposition reader, which takes every number form the format writes (a counter past
     * 10^7 reads {@code 1.6613376E7}: a digits-and-dots regex here once took it for 1.66, and PrefillKillIT waited
     * for a kill that never came).
     */
    double metric(int port, Sample sample) {
        String page = metricsPage(port);
        return page == null ? -1 : sum(sample, page);
    }

    /** A process's {@code /metrics} page, or null when it does not answer. */
    private String metricsPage(int port) {
        try {
            return get("http://127.0.0.1:" + port + "/metrics").body();
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    /** The sum of every {@code sample} in a {@code /metrics} page, 0 when it has none. */
    static double sum(Sample sample, String metricsPage) {
        double total = new PrometheusText(metricsPage).sum(sample.name(), sample.labels());
        return Double.isNaN(total) ? 0 : total;
    }

    int status(String url) {
        try {
            return get(url).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postJson(String url, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    void awaitTrue(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        awaitTrue(what, within, condition, () -> "");
    }

    void awaitTrue(String what, Duration within, BooleanSupplier condition, Supplier<String> state)
            throws InterruptedException {
        awaitTrue(what, within, Duration.ofMillis(300), condition, state);
    }

    /** Polls {@code condition} every {@code interval} (a polling interval: the condition decides) until it holds. */
    void awaitTrue(String what, Duration within, Duration interval, BooleanSupplier condition, Supplier<String> state)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting until " + what + "\n" + state.get() + "\n" + logs());
            Thread.sleep(interval.toMillis());
        }
    }

    String metricsOf(String base) {
        try {
            return get(base + "/metrics").body().lines().filter(l -> l.startsWith("tandem_"))
                    .collect(java.util.stream.Collectors.joining("\n"));
        } catch (IOException | InterruptedException e) {
            return "(no metrics: " + e + ")";
        }
    }

    String logs() {
        StringBuilder sb = new StringBuilder();
        for (JarProcess p : processes) sb.append(p.describe()).append('\n');
        return sb.toString();
    }

    @Override
    public void close() throws InterruptedException {
        for (JarProcess p : processes) p.close();
    }
}
