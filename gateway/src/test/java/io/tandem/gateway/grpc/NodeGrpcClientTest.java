package io.tandem.gateway.grpc;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.it.TestSupport.Http;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An independent client: Node's {@code @grpc/grpc-js} and {@code @grpc/proto-loader} (npm), given only Triton's
 * {@code grpc_service.proto}, call ModelInfer and ModelStreamInfer on the embedded default gateway; the greedy text
 * equals {@code /v1/completions}'. The modules are looked up in {@code -Dtandem.node.grpc=DIR} (a directory holding
 * {@code node_modules}), else {@code gateway/target/node-grpc}; install them there with
 * {@code npm install --prefix gateway/target/node-grpc @grpc/grpc-js @grpc/proto-loader}. Without node or the modules
 * the test is skipped and says why.
 */
class NodeGrpcClientTest {

    static Gateway gateway;
    static Http http;

    /** Skips (in the test, so the report shows it skipped, with the reason) unless node and the modules are there. */
    private static void requireNode() {
        assumeTrue(nodeAvailable(), () -> skip("no 'node' on PATH"));
        assumeTrue(Files.isDirectory(modules().resolve("@grpc/grpc-js")) && Files.isDirectory(modules().resolve("@grpc/proto-loader")),
                () -> skip("@grpc/grpc-js and @grpc/proto-loader are not in " + modules() + " (npm install --prefix "
                        + modules().getParent() + " @grpc/grpc-js @grpc/proto-loader)"));
        gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0));
        http = new Http(gateway.port());
    }

    @AfterAll
    static void stop() {
        if (http != null) http.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @Test
    void nodesGrpcJsGetsTheHttpApisGreedyText() throws Exception {
        requireNode();
        String model = http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
        String prompt = "The fortune says";
        JsonObject out = runNode(model, prompt, 24);
        String viaHttp = http.post("/v1/completions", new JsonObject().put("model", model).put("prompt", prompt)
                .put("max_tokens", 24).put("temperature", 0)).json().getJsonArray("choices").getJsonObject(0).getString("text");
        assertFalse(viaHttp.isEmpty());
        assertEquals(viaHttp, out.getString("whole"), "ModelInfer");
        assertEquals(viaHttp, out.getString("streamed"), "ModelStreamInfer");
        assertTrue(out.getInteger("pieces") > 1, "streamed in pieces: " + out);
        assertEquals(1, out.getInteger("finals"), "one triton_final_response");
        assertTrue(out.getJsonArray("errors").isEmpty(), out.toString());
    }

    private JsonObject runNode(String model, String prompt, int maxTokens) throws IOException, InterruptedException, URISyntaxException {
        Path script = Path.of(NodeGrpcClientTest.class.getResource("/grpc/kserve-client.js").toURI());
        Path protoDir = TestSupport.repoRoot().resolve("protocol/src/main/proto");
        ProcessBuilder pb = new ProcessBuilder("node", script.toString(), protoDir.toString(), "127.0.0.1:" + gateway.grpcPort(),
                model, prompt, Integer.toString(maxTokens)).redirectErrorStream(true);
        pb.environment().put("NODE_PATH", modules().toString());
        Process p = pb.start();
        try {
            assertTrue(p.waitFor(90, TimeUnit.SECONDS), "node did not finish within 90 s");
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), output);
            List<String> lines = output.lines().filter(l -> l.startsWith("{")).toList();
            assertEquals(1, lines.size(), output);
            return new JsonObject(lines.getFirst());
        } finally {
            p.destroyForcibly();
        }
    }

    private static Path modules() {
        String dir = System.getProperty("tandem.node.grpc");
        Path base = dir != null ? Path.of(dir) : TestSupport.repoRoot().resolve("gateway/target/node-grpc");
        return base.resolve("node_modules");
    }

    private static boolean nodeAvailable() {
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            boolean done = p.waitFor(20, TimeUnit.SECONDS);
            if (!done) p.destroyForcibly();
            return done && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String skip(String why) {
        String reason = "NodeGrpcClientTest skipped: " + why;
        System.err.println(reason);
        return reason;
    }
}
