package io.tandem.gateway.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster as an operator runs it: a gateway JVM and two worker JVMs started as
 * {@code java -jar … -cluster} on loopback, forming a Hazelcast cluster. Requests succeed and
 * are spread over both workers; a worker killed with SIGKILL leaves routing within its lease
 * and later requests still succeed.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hung call fails the test instead of the build
class ClusterProcessesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ROOT = repoRoot();
    private static final Pattern SERVED = Pattern.compile("tandem_worker_requests_total\\{[^}]*outcome=\"(?:finished|completed|ok|stop|length)\"[^}]*} ([0-9.]+)");

    // HTTP/1.1: the JDK client's h2c upgrade against Vert.x once left a send() hanging past its timeout
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<JarProcess> processes = new ArrayList<>();

    @AfterEach
    void stopAll() throws InterruptedException {
        for (JarProcess p : processes) p.close();
    }

    @Test
    void gatewayAndTwoWorkerJvmsServeAndSurviveAKilledWorker() throws Exception {
        Path logs = ROOT.resolve("gateway/target/it-logs/cluster-" + System.currentTimeMillis());
        List<String> clusterProps = List.of(
                "-Dtandem.cluster.name=it-" + UUID.randomUUID(),
                "-Dtandem.cluster.port=" + (6000 + ThreadLocalRandom.current().nextInt(0, 300) * 10),
                "-Dhazelcast.phone.home.enabled=false");
        int portA = freePort(), portB = freePort(), gatewayPort = freePort();
        JarProcess workerA = start("worker-a", "worker/target/worker.jar", logs, clusterProps,
                List.of("-cluster", "--role", "decode", "--host", "127.0.0.1", "--port", String.valueOf(portA)));
        JarProcess workerB = start("worker-b", "worker/target/worker.jar", logs, clusterProps,
                List.of("-cluster", "--role", "decode", "--host", "127.0.0.1", "--port", String.valueOf(portB)));
        JarProcess gateway = start("gateway", "gateway/target/gateway.jar", logs, clusterProps,
                List.of("-cluster", "--host", "127.0.0.1", "--port", String.valueOf(gatewayPort),
                        "--router", "round-robin"));
        String base = "http://127.0.0.1:" + gatewayPort;

        awaitTrue("the gateway is ready", Duration.ofSeconds(90), () -> status(base + "/ready") == 200);
        String model = JSON.readTree(get(base + "/v1/models").body()).at("/data/0/id").asText();
        assertTrue(!model.isEmpty(), "/v1/models lists the model");

        // Both workers take traffic (round-robin over two live workers).
        long[] attempts = {0};
        awaitTrue("both workers serve requests", Duration.ofSeconds(60), () -> {
            assertChatSucceeds(base, model);
            attempts[0]++;
            return served(portA) > 0 && served(portB) > 0;
        }, () -> "after " + attempts[0] + " requests: worker A served " + served(portA)
                + ", worker B served " + served(portB) + "; gateway /metrics:\n" + metricsOf(base));

        // SIGKILL worker A: no goodbye, its member just vanishes.
        workerA.kill();
        long killedAt = System.nanoTime();

        // Within the lease (plus member-failure detection) the gateway routes only to B, and
        // every request succeeds from then on.
        awaitTrue("requests succeed only on worker B after the kill", Duration.ofSeconds(45), () -> {
            double before = served(portB);
            for (int i = 0; i < 4; i++) {
                if (!chatSucceeds(base, model)) return false;
            }
            return served(portB) - before >= 4;
        });
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("killed worker left routing after %.1f s%n", seconds);

        for (int i = 0; i < 10; i++) assertChatSucceeds(base, model);
        assertTrue(workerB.isAlive() && gateway.isAlive(), "worker B and the gateway keep running");
    }

    private JarProcess start(String name, String jar, Path logs, List<String> props, List<String> args)
            throws IOException {
        JarProcess p = JarProcess.start(name, ROOT.resolve(jar), logs, props, args);
        processes.add(p);
        return p;
    }

    private void assertChatSucceeds(String base, String model) {
        if (!chatSucceeds(base, model)) fail("chat completion failed\n" + logs());
    }

    private boolean chatSucceeds(String base, String model) {
        try {
            // ignore_eos: the simulated engine may draw EOS first; a fixed length makes success exact
            String body = "{\"model\":\"" + model + "\",\"max_tokens\":8,\"ignore_eos\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a fortune.\"}]}";
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                            .timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                System.out.println("chat completion: " + r.statusCode() + " " + r.body());
                return false;
            }
            JsonNode json = JSON.readTree(r.body());
            boolean complete = json.at("/usage/completion_tokens").asInt() == 8
                    && json.at("/choices/0/finish_reason").asText().equals("length");
            if (!complete) System.out.println("chat completion incomplete: " + r.body());
            return complete;
        } catch (IOException | InterruptedException e) {
            System.out.println("chat completion: " + e);
            return false;
        }
    }

    /** Requests a worker finished, from its own Prometheus endpoint. */
    private double served(int workerPort) {
        try {
            String metrics = get("http://127.0.0.1:" + workerPort + "/metrics").body();
            double total = 0;
            Matcher m = SERVED.matcher(metrics);
            while (m.find()) total += Double.parseDouble(m.group(1));
            return total;
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private int status(String url) {
        try {
            return get(url).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void awaitTrue(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        awaitTrue(what, within, condition, () -> "");
    }

    private void awaitTrue(String what, Duration within, BooleanSupplier condition, Supplier<String> state)
            throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) return;
            Thread.sleep(300);
        }
        fail("timed out waiting until " + what + "\n" + state.get() + "\n" + logs());
    }

    private String metricsOf(String base) {
        try {
            return get(base + "/metrics").body().lines().filter(l -> l.startsWith("tandem_"))
                    .collect(java.util.stream.Collectors.joining("\n"));
        } catch (IOException | InterruptedException e) {
            return "(no metrics: " + e + ")";
        }
    }

    private String logs() {
        StringBuilder sb = new StringBuilder();
        for (JarProcess p : processes) sb.append(p.describe()).append('\n');
        return sb.toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static Path repoRoot() {
        String prop = System.getProperty("tandem.repo.root");
        if (prop != null) return Path.of(prop);
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !p.resolve("testdata").toFile().isDirectory()) p = p.getParent();
        if (p == null) throw new IllegalStateException("cannot find the repository root");
        return p;
    }
}
