package io.tandem.gateway.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CI soak: {@code java -jar gateway.jar soak --minutes 1 --streams 200} starts its own gateway and two
 * simulated-engine workers as JVMs, keeps 200 streams open for a minute with deliberate disconnects and cancels,
 * restarts a worker halfway through the warm-up and through the load (SIGTERM: drain, exit 0, start again), and
 * judges the run. It must exit 0: no request
 * failed that the client did not cut short, every process's heap after GC is within ±10 % of its start, no process
 * ended with more threads, and the workers' KV blocks are back where they started.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SoakIT {
    private static final Path ROOT = TestSupport.repoRoot();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process p : started) p.descendants().forEach(ProcessHandle::destroyForcibly);
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void aMinuteOfTwoHundredStreamsWithAWorkerRestartFailsNothingAndLeaksNothing() throws Exception {
        Path gatewayJar = ROOT.resolve("gateway/target/gateway.jar"), workerJar = ROOT.resolve("worker/target/worker.jar");
        assertTrue(Files.isRegularFile(gatewayJar) && Files.isRegularFile(workerJar), "build the jars first (package)");
        Path logs = Files.createDirectories(ROOT.resolve("gateway/target/it-logs/soak-" + System.currentTimeMillis()));
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-jar", gatewayJar.toString(),
                "soak", "--minutes", "1", "--streams", "200", "--json",
                "--gateway-jar", gatewayJar.toString(), "--worker-jar", workerJar.toString(), "--logs", logs.toString());
        Path out = logs.resolve("soak.json"), err = logs.resolve("soak.log");
        long t0 = System.nanoTime();
        Process soak = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        started.add(soak);
        assertTrue(soak.waitFor(5, TimeUnit.MINUTES), "the soak ended within 5 minutes\n" + Files.readString(err));
        System.out.printf("soak IT: %.0f s wall time%n", (System.nanoTime() - t0) / 1e9);

        String stdout = Files.readString(out).strip();
        String progress = Files.readString(err);
        assertTrue(stdout.startsWith("{"), "one JSON line on stdout, got:\n" + stdout + "\n" + progress);
        JsonObject result = new JsonObject(stdout);
        List<String> failed = new ArrayList<>();
        JsonArray checks = result.getJsonArray("checks");
        for (int i = 0; i < checks.size(); i++) {
            JsonObject c = checks.getJsonObject(i);
            if (!c.getBoolean("passed")) failed.add(c.getString("name") + ": " + c.getString("detail"));
        }
        assertEquals(List.of(), failed, "every check holds\n" + result.encodePrettily() + "\n" + progress);
        assertEquals(0, soak.exitValue(), "exit 0 when every check holds");

        assertEquals(0, result.getLong("failed"));
        assertTrue(result.getLong("completed") > 1000, "requests completed: " + result.getLong("completed"));
        assertTrue(result.getLong("disconnected") > 0 && result.getLong("cancelled") > 0,
                "the client disconnected and cancelled some on purpose: " + result.getLong("disconnected") + ", " + result.getLong("cancelled"));
        JsonArray restarts = result.getJsonArray("restarts");
        assertEquals(2, restarts.size(), "a restart in the warm-up and one in the measured load: " + restarts);
        for (Object r : restarts) assertEquals(0, ((JsonObject) r).getInteger("exitCode"), "the restarted worker drained and exited 0: " + r);
        assertEquals(3, result.getJsonArray("processes").size());
        for (Object p : result.getJsonArray("processes")) {
            JsonObject process = (JsonObject) p;
            assertTrue(process.getJsonObject("start").getLong("heapAfterGcBytes") > 0, "heap after GC read: " + process);
        }
        // the KV check compared real numbers, not absent gauges
        JsonObject worker = result.getJsonArray("processes").getJsonObject(1);
        assertTrue(worker.getJsonObject("end").getInteger("freeBlocks") > 0, "free KV blocks reported: " + worker);
    }
}
