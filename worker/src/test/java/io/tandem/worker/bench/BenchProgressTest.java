package io.tandem.worker.bench;

import io.tandem.protocol.progress.Progress;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code worker.jar bench} on the tiny test model: progress on stderr, stdout still one JSON object for the scripts. */
class BenchProgressTest {

    @Test
    void progressGoesToStderrAndStdoutStaysOneJsonLine() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream stdout = System.out, stderr = System.err;
        System.setProperty(Progress.EVERY_PROPERTY, "0"); // a line per repetition (not a terminal under surefire)
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = new CommandLine(new BenchCommand()).execute("-m", model("tiny-llama-spm-f32").toString(), "-t", "1",
                    "-p", "16", "-n", "4", "-b", "1", "-r", "3", "--no-bandwidth", "--json");
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
            System.clearProperty(Progress.EVERY_PROPERTY);
        }
        String o = out.toString(StandardCharsets.UTF_8), e = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, e);
        List<String> lines = o.lines().toList();
        assertEquals(1, lines.size(), "stdout is the JSON alone:\n" + o);
        JsonObject json = new JsonObject(lines.getFirst());
        assertEquals(List.of("pp16", "tg4"), json.getJsonArray("results").stream().map(r -> ((JsonObject) r).getString("test")).toList());
        for (String test : List.of("pp16", "tg4")) {
            for (int r = 1; r <= 3; r++) {
                assertTrue(e.contains("bench " + test + ": " + r + "/3 reps, "), "progress of " + test + " rep " + r + " in\n" + e);
            }
        }
        assertTrue(e.contains("bench tg4: 1/3 reps, ") && e.contains(", ETA "), e);
    }

    private static Path model(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("testdata/models/" + name + ".gguf");
            if (Files.isRegularFile(p)) return p;
        }
        throw new IllegalStateException("testdata/models/" + name + ".gguf not found");
    }
}
