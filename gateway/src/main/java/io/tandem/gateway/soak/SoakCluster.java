package io.tandem.gateway.soak;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The soak's cluster: a gateway and workers as {@code java -jar … -cluster} processes on loopback, in a Hazelcast
 * cluster of their own (a fresh name, a free port range, a fresh {@code TANDEM_CLUSTER_SECRET}), each logging to a
 * file. Closing it stops whatever still runs (SIGTERM, then SIGKILL after a grace period).
 */
final class SoakCluster implements AutoCloseable {
    private static final Pattern WORKER_PORT = Pattern.compile("health and metrics on http://127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern GATEWAY_PORT = Pattern.compile("listening on http://[^:]+:(\\d+)");
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(20);

    /** One member: its command line, and its current process (a restart replaces it). */
    static final class Node {
        final String name;
        final List<String> command;
        final boolean worker;
        private Process process;
        private int port;
        private int generation;

        private Node(String name, List<String> command, boolean worker) {
            this.name = name;
            this.command = command;
            this.worker = worker;
        }

        int port() {
            return port;
        }

        long pid() {
            return process.pid();
        }

        boolean alive() {
            return process.isAlive();
        }

        String base() {
            return "http://127.0.0.1:" + port;
        }
    }

    private final String java;
    private final Path logs;
    private final List<String> jvmArgs;
    private final String secret;
    private final List<Node> nodes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    /** Ctrl-C or SIGTERM to the soak stops its cluster too (close() removes it). */
    private final Thread onExit = Thread.ofPlatform().name("tandem-soak-cluster-stop").unstarted(this::killAll);

    SoakCluster(Path logs) throws IOException {
        this.java = ProcessHandle.current().info().command().orElse("java");
        this.logs = Files.createDirectories(logs);
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        this.secret = HexFormat.of().formatHex(key);
        List<String> args = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                "-Dtandem.cluster.name=soak-" + UUID.randomUUID(), "-Dtandem.cluster.port=" + freeClusterPortBase(),
                "-Dhazelcast.phone.home.enabled=false"));
        Path logging = Path.of("conf/logging.properties");
        if (Files.isRegularFile(logging)) args.add("-Djava.util.logging.config.file=" + logging.toAbsolutePath());
        this.jvmArgs = List.copyOf(args);
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    Path logs() {
        return logs;
    }

    /** Starts a gateway serving HTTP on a port of its own choice. */
    Node gateway(Path jar, List<String> flags) throws IOException {
        return start("gateway", jar, "768m", flags, false);
    }

    /** Starts a worker (its /health and /metrics on a port of its own choice). */
    Node worker(String name, Path jar, List<String> flags) throws IOException {
        return start(name, jar, "512m", flags, true);
    }

    private Node start(String name, Path jar, String heap, List<String> flags, boolean worker) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx" + heap));
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of("-jar", jar.toString(), "-cluster", "--host", "127.0.0.1", "--port", "0"));
        if (!worker) cmd.addAll(List.of("--grpc-port", "0"));
        cmd.addAll(flags);
        Node node = new Node(name, List.copyOf(cmd), worker);
        nodes.add(node);
        launch(node);
        return node;
    }

    /** Starts the node's command line again (after {@link #stop}), logging to a new file. */
    void restart(Node node) throws IOException {
        if (node.process.isAlive()) throw new IllegalStateException(node.name + " is still running");
        launch(node);
    }

    private void launch(Node node) throws IOException {
        node.generation++;
        Path log = log(node);
        ProcessBuilder pb = new ProcessBuilder(node.command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("TANDEM_CLUSTER_SECRET", secret);
        pb.environment().put("TANDEM_RELAUNCH", "0"); // the flags are given: the pid must be the serving JVM itself
        node.process = pb.start();
        node.port = 0;
    }

    private Path log(Node node) {
        return logs.resolve(node.name + (node.generation > 1 ? "-" + node.generation : "") + ".log");
    }

    /**
     * Waits until the node printed the port it chose (it binds port 0: a port picked here could be taken by one of
     * the cluster's own connections before the process binds it).
     */
    void awaitPort(Node node, Duration within) throws InterruptedException {
        Pattern pattern = node.worker ? WORKER_PORT : GATEWAY_PORT;
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            Matcher m = pattern.matcher(output(node));
            if (m.find()) {
                node.port = Integer.parseInt(m.group(1));
                return;
            }
            if (!node.process.isAlive()) throw new IllegalStateException(node.name + " exited with " + node.process.exitValue() + tail(node));
            if (System.nanoTime() > deadline) throw new IllegalStateException(node.name + " printed no port within " + within + tail(node));
            Thread.sleep(200); // polling a log file: nothing to wait on
        }
    }

    /** Waits until {@code GET /ready} answers 200; false when {@code within} runs out or the node exits. */
    boolean awaitReady(Node node, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline && node.process.isAlive()) {
            if (status(node.base() + "/ready") == 200) return true;
            Thread.sleep(250);
        }
        return false;
    }

    String metrics(Node node) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.base() + "/metrics")).timeout(HTTP_TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException(node.name + " /metrics answered " + r.statusCode());
        return r.body();
    }

    String get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(HTTP_TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private int status(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(HTTP_TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Forces a full GC in the node's JVM ({@code jcmd <pid> GC.run}), then reads its heap, threads and KV blocks. */
    ProcessSample sample(Node node) throws IOException, InterruptedException {
        jcmd(node, "GC.run");
        java.util.Map<String, Integer> threads = ThreadNames.groups(jcmd(node, "Thread.print"));
        PrometheusText m = new PrometheusText(metrics(node));
        double heap = m.sum("jvm_gc_live_data_size_bytes");
        if (!(heap > 0)) heap = m.sum("jvm_memory_used_bytes", Map.of("area", "heap"));
        int live = liveThreads(node);
        ProcessSample.KvBlocks kv = null;
        if (node.worker) {
            double free = m.sum("tandem_worker_free_blocks");
            kv = new ProcessSample.KvBlocks((int) m.sum("tandem_worker_active_blocks"), Double.isNaN(free) ? -1 : (int) free);
        }
        return new ProcessSample(heap, live, threads, kv);
    }

    /**
     * The node's live threads: the lowest of ten readings of {@code jvm_threads_live_threads} over three seconds.
     * Hazelcast's cached pool starts and ends threads all the time, so one reading is a few threads up or down;
     * its low point is the steady base a leaked thread would raise. -1 when the node does not answer.
     */
    int liveThreads(Node node) throws InterruptedException {
        double low = Double.NaN;
        for (int i = 0; i < 10; i++) {
            if (i > 0) Thread.sleep(300); // spreading the readings out is the point
            try {
                double now = new PrometheusText(metrics(node)).sum("jvm_threads_live_threads");
                if (Double.isNaN(low) || now < low) low = now;
            } catch (IOException e) {
                // a missed reading: the others decide
            }
        }
        return Double.isNaN(low) ? -1 : (int) low;
    }

    /** Runs a diagnostic command in the node's JVM ({@code jcmd <pid> <command>}) and returns its output. */
    private String jcmd(Node node, String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(java).resolveSibling("jcmd");
        Path out = Files.createTempFile(logs, "jcmd-", ".txt"); // a file: a thread dump could fill a pipe before we read it
        try {
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(node.pid()), command).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("jcmd " + node.pid() + " " + command + " did not finish within 60 s");
            }
            String text = Files.readString(out);
            if (p.exitValue() != 0) throw new IOException("jcmd " + node.pid() + " " + command + " failed (" + p.exitValue() + "): " + text.strip());
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * SIGTERM, then waits up to {@code within} for the process to exit; returns its exit code, or -1 when it had to
     * be killed.
     */
    int stop(Node node, Duration within) throws InterruptedException {
        node.process.destroy();
        if (node.process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) return node.process.exitValue();
        node.process.destroyForcibly();
        node.process.waitFor(10, TimeUnit.SECONDS);
        return -1;
    }

    String output(Node node) {
        try {
            return Files.readString(log(node));
        } catch (IOException e) {
            return "";
        }
    }

    private String tail(Node node) {
        List<String> lines = output(node).lines().toList();
        return " (" + log(node) + "):\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    /** Stops every process still running: SIGTERM to all, then SIGKILL to those left after 40 s. */
    @Override
    public void close() throws InterruptedException {
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException e) {
            // the JVM is exiting: the hook does it
        }
        for (Node n : nodes) if (n.process != null && n.process.isAlive()) n.process.destroy();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        for (Node n : nodes) {
            if (n.process == null) continue;
            long left = deadline - System.nanoTime();
            if (!n.process.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                n.process.destroyForcibly();
                n.process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private void killAll() {
        for (Node n : nodes) if (n.process != null) n.process.destroyForcibly();
    }

    /** The first of ten consecutive loopback ports that are free now, for Hazelcast's member ports. */
    private static int freeClusterPortBase() {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = 12000 + ThreadLocalRandom.current().nextInt(0, 1500) * 10;
            if (free(base, 10)) return base;
        }
        throw new IllegalStateException("no ten free consecutive ports found for the soak's Hazelcast cluster");
    }

    private static boolean free(int base, int count) {
        for (int p = base; p < base + count; p++) {
            try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                s.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
