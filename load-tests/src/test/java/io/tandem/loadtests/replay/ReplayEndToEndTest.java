package io.tandem.loadtests.replay;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code replay} against an embedded gateway in this JVM, serving the bundled model on the CPU engine with its prefix
 * cache: the small trace's shared hash ids come back as cached tokens, the all-distinct trace's do not.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReplayEndToEndTest {
    static Gateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = Gateway.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0))
                .toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) gateway.stop().toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES);
    }

    record Run(int status, String out, String err) {}

    static Run replay(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = ReplayCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void sharedHashIdsAreServedFromThePrefixCache(@TempDir Path dir) throws Exception {
        Path plot = dir.resolve("replay.svg");
        Run run = replay(Repo.testdata("traces/mooncake-small.jsonl").toString(), "--url", gateway.baseUrl(), "--speedup", "20",
                "--json", "--plot", plot.toString());
        assertEquals(0, run.status(), run.out() + run.err());
        String[] lines = run.out().strip().split("\n");
        assertEquals(1, lines.length, "one JSON line: " + run.out());
        JsonObject stats = new JsonObject(lines[0]);
        assertEquals(List.of("requests", "failed", "goodput", "ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms",
                "prefix_hit_rate"), List.copyOf(stats.fieldNames()).subList(0, 8));
        assertEquals(40, stats.getInteger("requests"));
        assertEquals(0, stats.getInteger("failed"));
        assertEquals(1, stats.getInteger("clipped"), "the one long document does not fit the bundled model's 256 tokens");
        assertTrue(stats.getDouble("goodput") > 0);
        assertTrue(stats.getDouble("ttft_p50_ms") > 0 && stats.getDouble("ttft_p99_ms") >= stats.getDouble("ttft_p50_ms"));
        assertTrue(stats.getDouble("itl_p50_ms") > 0 && stats.getDouble("itl_p99_ms") >= stats.getDouble("itl_p50_ms"));
        assertTrue(stats.getDouble("prefix_hit_rate") > 0, "shared hash ids must hit the prefix cache: " + stats);
        assertTrue(run.err().contains("replay: 40/40 done"), "progress on stderr: " + run.err());
        var svg = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(plot.toFile());
        assertEquals(40 * 3, svg.getElementsByTagName("circle").getLength());
    }

    @Test
    void allDistinctHashIdsShareNothing() {
        Run run = replay(Repo.testdata("traces/mooncake-distinct.jsonl").toString(), "--url", gateway.baseUrl(), "--speedup", "20",
                "--requests", "12", "--json", "--no-progress");
        assertEquals(0, run.status(), run.out() + run.err());
        JsonObject stats = new JsonObject(run.out().strip());
        assertEquals(12, stats.getInteger("requests"));
        assertEquals(0, stats.getInteger("failed"));
        assertEquals(0.0, stats.getDouble("prefix_hit_rate"), stats.toString());
        assertTrue(stats.getLong("prompt_tokens") > 0);
        assertEquals("", run.err());
    }

    @Test
    void anUnreachableServerIsAUsageErrorNamingTheUrl() {
        Run run = replay(Repo.testdata("traces/mooncake-small.jsonl").toString(), "--url", "http://127.0.0.1:1");
        assertEquals(2, run.status());
        assertTrue(run.err().contains("cannot list the models of http://127.0.0.1:1 (GET /v1/models)"), run.err());
    }

    @Test
    void anUnknownModelIsNamedWithWhatTheServerServes() {
        Run run = replay(Repo.testdata("traces/mooncake-small.jsonl").toString(), "--url", gateway.baseUrl(), "--model", "nope");
        assertEquals(2, run.status());
        assertTrue(run.err().contains("does not serve 'nope'; it serves ["), run.err());
    }
}
