package io.tandem.loadtests.serving;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.loadtests.grpc.StreamLoad;
import io.tandem.protocol.progress.Progress;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The serving and gRPC benches' progress, against an embedded gateway on the bundled model: ServingBench's stdout stays
 * empty and its JSON file as the comparison script reads it, while stderr shows the levels' progress; the gRPC load
 * counts its requests as they end.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BenchProgressTest {
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

    @Test
    void servingBenchShowsProgressOnStderrAndKeepsItsOutputs(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("run.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream stdout = System.out, stderr = System.err;
        System.setProperty(Progress.EVERY_PROPERTY, "0"); // a line per request (not a terminal under surefire)
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            ServingBench.main(new String[] {"run", "--url", gateway.baseUrl(), "--label", "t", "--out", json.toString(),
                    "--concurrency", "2", "--window-seconds", "1.5", "--drain-seconds", "60", "--warmup-requests", "2",
                    "--prompt-tokens", "16", "--max-tokens", "4", "--vocab", "256"});
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
            System.clearProperty(Progress.EVERY_PROPERTY);
        }
        String e = err.toString(StandardCharsets.UTF_8);
        // the in-process gateway's logger writes on stdout here: none of the bench's lines may be among them
        List<String> benchOnStdout = out.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.contains("t warm-up") || l.contains("t c=2") || l.contains("in the window")).toList();
        assertEquals(List.of(), benchOnStdout, "progress stays off stdout");
        JsonObject run = new JsonObject(Files.readString(json));
        assertEquals(2, run.getJsonArray("levels").getJsonObject(0).getInteger("concurrency"));
        int requests = run.getJsonArray("levels").getJsonObject(0).getInteger("requests");
        assertTrue(requests > 0, run.encode());
        assertTrue(e.contains("t warm-up: 1/2 requests, ") && e.contains("t warm-up: 2/2 requests, "), e);
        assertTrue(e.contains("t c=2: 1 requests, ") && e.contains("t c=2: " + requests + " requests, "), e);
        assertTrue(e.contains(" s left in the window, ") || e.contains("draining, "), e);
        assertTrue(e.contains("t: c=2  "), "the level's result line is still there:\n" + e);
    }

    @Test
    void theGrpcLoadCountsItsRequestsAsTheyEnd() throws Exception {
        List<Integer> counts = new CopyOnWriteArrayList<>();
        try (StreamLoad load = new StreamLoad("127.0.0.1", gateway.grpcPort(), "tandem-fortune-5m", 4, 60)) {
            List<StreamLoad.Done> done = load.run(2, 5, counts::add);
            assertEquals(5, done.size());
            assertTrue(done.stream().allMatch(d -> d.outcome().ok()), () -> done.getFirst().outcome().error());
        }
        assertEquals(List.of(1, 2, 3, 4, 5), counts);
    }
}
