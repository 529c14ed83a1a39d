package io.tandem.transfer.bench;

import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.progress.Progress;
import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferAgents;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferOp;
import io.tandem.transfer.nativelib.NixlHome;
import io.tandem.transfer.nativelib.UcpLibrary;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Bandwidth and latency of one transfer at a time between this JVM and a {@link BenchPeer} JVM on the same host, per
 * backend, for WRITE (unfenced and fenced) and READ of one descriptor of 64 KiB, 1 MiB and 256 MiB, plus a
 * {@link MemorySegment#copy} baseline. Both JVMs share a random cluster secret (passed in {@code TANDEM_CLUSTER_SECRET}),
 * so every connection is authenticated as in production. Prints a markdown table with a column per backend, in the
 * order given, run one after the other. Args: the backends (default tcp shm; e.g. {@code tcp shm ucx nixl}). ucx and
 * nixl use the process's UCX ({@link UcpLibrary}: NIXL's with {@code TANDEM_NIXL_HOME}), named under the table.
 */
public final class TransferBench {
    private static final long[] SIZES = {64L << 10, 1L << 20, 256L << 20};
    private static final long MAX = SIZES[SIZES.length - 1];
    private static final long WARMUP_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long BUDGET_NANOS = TimeUnit.MILLISECONDS.toNanos(1500);

    private interface Op {
        void run() throws Exception;
    }

    /** One measurement: GB/s and the latency of one transfer. */
    private record Result(double gbPerSecond, double micros) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.2f GB/s · %.1f µs", gbPerSecond, micros);
        }
    }

    /** Rows (size, op) in order, a cell per backend. */
    private static final Map<String, Map<String, Result>> TABLE = new LinkedHashMap<>();

    /** One line per measurement: memcpy's, then each backend's 3 ops and fenced WRITE, per size. */
    private static Progress progress;

    public static void main(String[] args) throws Exception {
        List<String> backends = args.length > 0 ? List.of(args) : List.of("tcp", "shm");
        progress = Progress.onStderr("transfer-bench", "measurements",
                (long) SIZES.length * (1 + backends.size() * (TransferOp.values().length + 1)));
        try {
            table(backends);
        } finally {
            progress.close();
        }
    }

    private static void table(List<String> backends) throws Exception {
        baseline();
        Vertx vertx = Vertx.vertx();
        List<String> columns = new ArrayList<>(List.of("memcpy"));
        try {
            for (String backend : backends) columns.add(bench(vertx, backend));
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        System.out.println("| size | op | " + String.join(" | ", columns) + " |");
        System.out.println("|---:|---|" + "---:|".repeat(columns.size()));
        TABLE.forEach((row, cells) -> System.out.println("| " + row + " | " + String.join(" | ",
                columns.stream().map(c -> cells.containsKey(c) ? cells.get(c).toString() : "").toList()) + " |"));
        if (backends.contains("ucx") || backends.contains("nixl")) {
            UcpLibrary.ifLoaded().ifPresent(u -> System.out.println("\nucx and nixl ran on " + u));
        }
    }

    private static void baseline() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(MAX, 4096).fill((byte) 1), b = arena.allocate(MAX, 4096).fill((byte) 2);
            for (long size : SIZES) measure(size, "memcpy", "copy", () -> MemorySegment.copy(a, 0, b, 0, size));
        }
    }

    /** Benchmarks one backend against a peer JVM; returns the backend the agents chose (its column). */
    private static String bench(Vertx vertx, String backend) throws Exception {
        String peerName = "bench-peer-" + backend + "-" + ProcessHandle.current().pid();
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String secret = HexFormat.of().formatHex(ClusterSecret.nonce());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        String nixlHome = System.getProperty(NixlHome.PROPERTY);
        if (nixlHome != null && !nixlHome.isBlank()) cmd.add("-D" + NixlHome.PROPERTY + "=" + nixlHome);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), BenchPeer.class.getName(), backend, peerName, Long.toString(MAX)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put(ClusterSecret.ENV, secret);
        Process peer = pb.start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
             TransferAgent agent = TransferAgents.open(vertx, TransferConfig.of(backend, "bench-" + backend + "-" + ProcessHandle.current().pid())
                     .withSecret(ClusterSecret.of(secret))).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)) {
            String line = out.readLine();
            if (line == null || !line.startsWith("META ")) throw new IllegalStateException("bench peer did not start: " + line);
            agent.register("bench", MAX).memory().fill((byte) 3);
            String chosen = agent.loadPeer(AgentMetadata.fromJson(new JsonObject(line.substring(5))));
            warmUp(agent, peerName);
            for (long size : SIZES) {
                List<MemoryDescriptor> d = List.of(new MemoryDescriptor(0, 0, size));
                for (TransferOp op : TransferOp.values()) {
                    measure(size, chosen, op.name(), () -> agent.post(op, d, peerName, d, null).completion().get(60, TimeUnit.SECONDS));
                }
                measure(size, chosen, "WRITE fenced", () -> agent.post(TransferOp.WRITE, d, peerName, d, null, BenchPeer.FENCE)
                        .completion().get(60, TimeUnit.SECONDS));
            }
            return chosen;
        } finally {
            peer.getOutputStream().close();
            if (!peer.waitFor(10, TimeUnit.SECONDS)) peer.destroyForcibly();
        }
    }

    /** Both JVMs' transfer paths take thousands of transfers to be compiled: small ones both ways for a few seconds. */
    private static void warmUp(TransferAgent agent, String peer) throws Exception {
        List<MemoryDescriptor> d = List.of(new MemoryDescriptor(0, 0, 64 << 10));
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < WARMUP_NANOS * 8) {
            for (TransferOp op : TransferOp.values()) agent.post(op, d, peer, d, null).completion().get(60, TimeUnit.SECONDS);
            agent.post(TransferOp.WRITE, d, peer, d, null, BenchPeer.FENCE).completion().get(60, TimeUnit.SECONDS);
        }
    }

    /** Warm-up (JIT, connection, page faults) for 2 runs and 0.5 s, then runs until the time budget is spent (at least 3). */
    private static void measure(long size, String backend, String op, Op run) throws Exception {
        long warm = System.nanoTime();
        for (int i = 0; i < 2 || System.nanoTime() - warm < WARMUP_NANOS; i++) run.run();
        int n = 0;
        long t0 = System.nanoTime(), t;
        do {
            run.run();
            n++;
            t = System.nanoTime() - t0;
        } while (n < 3 || (t < BUDGET_NANOS && n < 5000));
        double seconds = t / 1e9 / n;
        TABLE.computeIfAbsent(human(size) + " | " + op, k -> new LinkedHashMap<>())
                .put(backend, new Result(size / seconds / 1e9, seconds * 1e6));
        progress.step(backend + " " + human(size) + " " + op);
    }

    private static String human(long size) {
        return size >= 1 << 20 ? (size >> 20) + " MiB" : (size >> 10) + " KiB";
    }
}
