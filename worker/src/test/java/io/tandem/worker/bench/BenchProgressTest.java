package io.tandem.worker.bench;

import io.tandem.protocol.progress.Progress;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code worker.jar bench} and {@code disagg-bench} on the tiny test model: progress on stderr, stdout as the scripts read it. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BenchProgressTest {
    record Run(int code, String out, String err) {}

    /** Runs a command with System.out/err captured and a progress line per update (not a terminal under surefire). */
    private static Run run(Object command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream stdout = System.out, stderr = System.err;
        System.setProperty(Progress.EVERY_PROPERTY, "0");
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = new CommandLine(command).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
            System.clearProperty(Progress.EVERY_PROPERTY);
        }
    }

    @Test
    void benchShowsItsRepetitionsOnStderrAndStdoutStaysOneJsonLine() {
        Run r = run(new BenchCommand(), "-m", model("tiny-llama-spm-f32").toString(), "-t", "1",
                "-p", "16", "-n", "4", "-b", "1", "-r", "3", "-w", "0", "--no-bandwidth", "--json");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(1, lines.size(), "stdout is the JSON alone:\n" + r.out());
        JsonObject json = new JsonObject(lines.getFirst());
        assertEquals(List.of("pp16", "tg4"), json.getJsonArray("results").stream().map(x -> ((JsonObject) x).getString("test")).toList());
        for (String test : List.of("pp16", "tg4")) {
            for (int rep = 1; rep <= 3; rep++) {
                assertTrue(r.err().contains("bench " + test + ": " + rep + "/3 reps, "), "progress of " + test + " rep " + rep + " in\n" + r.err());
            }
        }
        assertTrue(r.err().contains("bench tg4: 1/3 reps, ") && r.err().contains(", ETA "), r.err());
    }

    @Test
    void depthRunsPromptAndGenerationAfterACachedContextLikeLlamaBench() {
        Run r = run(new BenchCommand(), "-m", model("tiny-llama-spm-f32").toString(), "-t", "1",
                "-p", "16", "-n", "4", "-b", "1,2", "-d", "0,24", "-r", "1", "-w", "0", "--no-bandwidth", "--json");
        assertEquals(0, r.code(), r.err());
        JsonObject json = new JsonObject(r.out().strip());
        assertEquals(List.of("pp16", "tg4", "tg4@b2", "pp16 @ d24", "tg4 @ d24", "tg4@b2 @ d24"),
                json.getJsonArray("results").stream().map(x -> ((JsonObject) x).getString("test")).toList());
    }

    @Test
    void aNegativeDepthIsRefused() {
        Run r = run(new BenchCommand(), "-m", model("tiny-llama-spm-f32").toString(), "-d", "-1", "--no-bandwidth");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("depths"), r.err());
    }

    @Test
    void anF16KvCacheIsMeasuredAsAskedAndAnUnknownTypeIsRefused() {
        Run r = run(new BenchCommand(), "-m", model("tiny-llama-spm-f32").toString(), "-t", "1",
                "-p", "16", "-n", "4", "-b", "1,2", "-r", "1", "-w", "0", "--no-bandwidth", "--kv-dtype", "f16", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains(", F16 KV cache, "), r.err());
        assertEquals(3, new JsonObject(r.out().strip()).getJsonArray("results").size(), r.out());
        Run bad = run(new BenchCommand(), "-m", model("tiny-llama-spm-f32").toString(), "--kv-dtype", "q8", "--no-bandwidth");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--kv-dtype must be f32 or f16, got 'q8'"), bad.err());
    }

    @Test
    void disaggBenchCountsItsRunsOnStderrAndKeepsItsTableOnStdout() {
        Run r = run(new DisaggBenchCommand(), "-m", model("tiny-llama-spm-f32").toString(), "-t", "1", "-p", "32", "-r", "2",
                "--backends", "tcp");
        assertEquals(0, r.code(), r.err());
        List<String> rows = r.out().lines().filter(l -> l.startsWith("| tcp |")).toList();
        assertEquals(2, rows.size(), "a row per layer-wise setting:\n" + r.out());
        assertFalse(r.out().contains("disagg-bench:"), "progress stays off stdout:\n" + r.out());
        for (String s : List.of("disagg-bench: 1/4 runs, tcp layer-wise=true, ", "disagg-bench: 2/4 runs, tcp layer-wise=true, ",
                "disagg-bench: 4/4 runs, tcp layer-wise=false, ")) {
            assertTrue(r.err().contains(s), s + " in\n" + r.err());
        }
    }

    private static Path model(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("testdata/models/" + name + ".gguf");
            if (Files.isRegularFile(p)) return p;
        }
        throw new IllegalStateException("testdata/models/" + name + ".gguf not found");
    }
}
