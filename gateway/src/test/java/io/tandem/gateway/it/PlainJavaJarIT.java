package io.tandem.gateway.it;

import io.tandem.platform.LinuxThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static io.tandem.platform.LinuxThreads.SCHED_FIFO;
import static io.tandem.platform.LinuxThreads.SCHED_IDLE;
import static io.tandem.platform.LinuxThreads.SCHED_OTHER;

/**
 * The jars as the design card and the README type them: {@code java -jar gateway.jar} and {@code java -jar worker.jar}
 * with no JVM flag at all, on the JDK running this test. They restart java with the Vector API and run the vector
 * kernels; with {@code TANDEM_RELAUNCH=0} they run the scalar ones and say why at WARN; exit codes and SIGTERM pass
 * through the restart, and no JVM is left behind.
 */
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PlainJavaJarIT {
    private static final Path ROOT = TestSupport.repoRoot();
    private static final Path GATEWAY_JAR = ROOT.resolve("gateway/target/gateway.jar");
    private static final Path WORKER_JAR = ROOT.resolve("worker/target/worker.jar");
    private static final Path MODEL = ROOT.resolve("testdata/models/tiny-llama-spm-f32.gguf");
    private static final Pattern LISTENING = Pattern.compile("(?m)^Tandem gateway listening on http://127\\.0\\.0\\.1:(\\d+)$");
    private static final Pattern BACKEND_COLUMN = Pattern.compile("\\| CPU (vector-\\d+|scalar) \\|");
    private static final String RESTART = "restarting java with --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    private final List<Process> started = new ArrayList<>();
    @TempDir
    Path dir;

    @AfterEach
    void killLeftovers() {
        for (Process p : started) p.descendants().forEach(ProcessHandle::destroyForcibly);
        started.forEach(Process::destroyForcibly);
    }

    /** {@code java -jar JAR ARGS} with nothing else on the command line, in an empty working directory. */
    private Process javaJar(Path jar, Path log, Map<String, String> env, String... args) throws IOException {
        assertTrue(Files.isRegularFile(jar), jar + " is missing: build the jars first (./tandem mvn -q -o -pl gateway -am package -DskipTests)");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        for (String v : List.of("TANDEM_RELAUNCH", "TANDEM_RELAUNCH_PARENT_PID", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "TANDEM_CLUSTER_SECRET")) {
            pb.environment().remove(v);
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static String finish(Process p, Path log) throws InterruptedException {
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "still running after 180 s:\n" + read(log));
        return read(log);
    }

    @Test
    void theEmbeddedGatewayRunsTheVectorKernelsAndSigtermStopsItsJvmToo() throws Exception {
        Path log = dir.resolve("gateway.log");
        Process gateway = javaJar(GATEWAY_JAR, log, Map.of(), "--host", "127.0.0.1", "--port", "0", "--grpc-port", "0");
        int port = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        while (port == 0 && System.nanoTime() < deadline && gateway.isAlive()) {
            Matcher m = LISTENING.matcher(read(log));
            if (m.find()) port = Integer.parseInt(m.group(1));
            else Thread.sleep(200); // polling the log, bounded by the deadline
        }
        assertTrue(port > 0, "the gateway did not print its port (alive=" + gateway.isAlive() + "):\n" + read(log));
        String out = read(log);
        assertTrue(out.contains("gateway.jar: " + RESTART), out);
        assertTrue(out.contains("CPU kernels: vector, "), out);
        while (!out.contains("Tandem network I/O: ") && System.nanoTime() < deadline && gateway.isAlive()) {
            Thread.sleep(200); // the line follows the listening ones; polling the log, bounded by the deadline
            out = read(log);
        }
        assertTrue(out.contains("Tandem network I/O: epoll"), "the plain jar runs on Netty's native epoll:\n" + out);
        ProcessHandle relaunched = gateway.children().findFirst().orElseThrow();
        if (LinuxThreads.fifoPermitted(1)) { // the jar runs as this process does
            assertTrue(out.contains("event loops run real-time (SCHED_FIFO 1)"), out);
            Map<String, List<Integer>> policies = policiesByThreadName(relaunched.pid());
            List<Integer> loops = policies.getOrDefault("vert.x-eventloo", List.of());
            assertTrue(!loops.isEmpty() && loops.stream().allMatch(p -> p == SCHED_FIFO),
                    "the event loops: " + policies);
            assertFalse(policies.entrySet().stream().anyMatch(e -> !e.getKey().equals("vert.x-eventloo")
                    && e.getValue().contains(SCHED_FIFO)), "nothing else is real-time: " + policies);
            assertComputeThreads(policies, SCHED_OTHER, "the loops preempt them: compute-nice auto leaves them fair");
        } else {
            assertTrue(out.contains("event loops run at normal priority: real-time scheduling refused"), out);
            assertComputeThreads(policiesByThreadName(relaunched.pid()), SCHED_IDLE,
                    "fair event loops: compute-nice auto puts them in SCHED_IDLE");
        }

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        List<String> kernels = metrics.lines().filter(l -> l.startsWith("tandem_engine_kernels_info{")).toList();
        int workers = io.tandem.gateway.embedded.EmbeddedWorkers.defaultPrefillWorkers(Runtime.getRuntime().availableProcessors()) + 1;
        assertEquals(workers, kernels.size(), "one line per embedded worker:\n" + metrics);
        assertTrue(kernels.stream().allMatch(l -> l.startsWith("tandem_engine_kernels_info{backend=\"vector\",lanes=\"")
                && l.endsWith("} 1")), kernels.toString());

        List<ProcessHandle> children = gateway.children().toList();
        assertEquals(1, children.size(), "one relaunched JVM: " + children);
        ProcessHandle child = children.getFirst();
        assertEquals(relaunched.pid(), child.pid());
        gateway.destroy(); // SIGTERM to the JVM the user started
        assertTrue(gateway.waitFor(90, TimeUnit.SECONDS), "the first JVM exits once the second has:\n" + read(log));
        // SIGTERM drains the gateway (nothing in flight here) and it exits 0; the first JVM passes that code on
        assertEquals(0, gateway.exitValue(), "the second JVM's exit code after a graceful SIGTERM:\n" + read(log));
        assertFalse(child.isAlive(), "no orphan: pid " + child.pid() + " is gone");
    }

    private static void assertComputeThreads(Map<String, List<Integer>> policies, int policy, String why) {
        List<Integer> compute = policies.getOrDefault("tandem-compute-", List.of());
        assertTrue(!compute.isEmpty() && compute.stream().allMatch(p -> p == policy), why + ": " + policies);
    }

    /** Thread name (as the kernel keeps it, 15 characters) to the scheduling policies of the threads so named. */
    private static Map<String, List<Integer>> policiesByThreadName(long pid) throws IOException {
        Map<String, List<Integer>> byName = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue; // the thread ended meanwhile
                }
                // "tid (name) state ...": the name may hold spaces; policy is field 41, the 39th after the name
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                byName.computeIfAbsent(name, k -> new ArrayList<>()).add(Integer.parseInt(after[38]));
            }
        }
        return byName;
    }

    @Test
    void workerBenchRunsVectorKernelsAndScalarOnlyWhenTheRestartIsTurnedOff() throws Exception {
        String[] bench = {"bench", "-m", MODEL.toString(), "-t", "1", "-p", "16", "-n", "4", "-b", "1", "-r", "1", "-w", "0", "--no-bandwidth"};
        Path vectorLog = dir.resolve("bench.log");
        String vector = finish(javaJar(WORKER_JAR, vectorLog, Map.of(), bench), vectorLog);
        Matcher column = BACKEND_COLUMN.matcher(vector);
        assertTrue(column.find(), vector);
        assertTrue(column.group(1).startsWith("vector-"), "backend column: " + column.group(1) + "\n" + vector);
        assertTrue(vector.contains("worker.jar: " + RESTART), vector);

        Path scalarLog = dir.resolve("bench-scalar.log");
        String scalar = finish(javaJar(WORKER_JAR, scalarLog, Map.of("TANDEM_RELAUNCH", "0"), bench), scalarLog);
        column = BACKEND_COLUMN.matcher(scalar);
        assertTrue(column.find(), scalar);
        assertEquals("scalar", column.group(1), scalar);
        assertFalse(scalar.contains("restarting java"), scalar);
        assertTrue(scalar.contains("WARNING: CPU kernels: scalar: this JVM was started without the jdk.incubator.vector module"), scalar);
        assertTrue(scalar.contains("Fix: start java with --add-modules jdk.incubator.vector"), scalar);
    }

    @Test
    void aFailingCommandsExitCodeComesThroughTheRestart() throws Exception {
        Path workerLog = dir.resolve("worker-bad.log"), gatewayLog = dir.resolve("gateway-bad.log");
        Process worker = javaJar(WORKER_JAR, workerLog, Map.of(), "--no-such-flag");
        Process gateway = javaJar(GATEWAY_JAR, gatewayLog, Map.of(), "--port", "70000");
        String w = finish(worker, workerLog), g = finish(gateway, gatewayLog);
        assertEquals(2, worker.exitValue(), w);
        assertTrue(w.contains(RESTART) && w.contains("Unknown option: '--no-such-flag'"), w);
        assertEquals(2, gateway.exitValue(), g);
        assertTrue(g.contains(RESTART) && g.contains("Invalid value for option '--port': must be a whole number 0..65535, got '70000'"), g);
    }
}
