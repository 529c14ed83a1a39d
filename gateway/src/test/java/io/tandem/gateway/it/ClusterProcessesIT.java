package io.tandem.gateway.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.tandem.gateway.grpc.GrpcTestClient;
import io.tandem.gateway.grpc.KServe;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcClient;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelReadyRequest;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster as an operator runs it: a gateway JVM and two worker JVMs started as
 * {@code java -jar … -cluster} on loopback, forming a Hazelcast cluster. Requests succeed and
 * are spread over both workers; a worker killed with SIGKILL leaves routing within its lease
 * and later requests still succeed. The gateway's gRPC API serves from the cluster too.
 */
@Timeout(value = 240, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a hung call fails the test instead of the build
class ClusterProcessesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ProcessCluster cluster = new ProcessCluster("cluster");

    @AfterEach
    void stopAll() throws InterruptedException {
        cluster.close();
    }

    @Test
    void gatewayAndTwoWorkerJvmsServeAndSurviveAKilledWorker() throws Exception {
        JarProcess workerA = cluster.worker("worker-a", 0, "--role", "decode");
        JarProcess workerB = cluster.worker("worker-b", 0, "--role", "decode");
        JarProcess gateway = cluster.gateway("gateway", 0, "--router", "round-robin");
        int portA = cluster.awaitPort(workerA, Duration.ofSeconds(120)), portB = cluster.awaitPort(workerB, Duration.ofSeconds(120));
        int gatewayPort = cluster.awaitPort(gateway, Duration.ofSeconds(120));
        String base = "http://127.0.0.1:" + gatewayPort;

        cluster.awaitTrue("the gateway is ready", Duration.ofSeconds(90), () -> cluster.status(base + "/ready") == 200);
        String model = JSON.readTree(cluster.get(base + "/v1/models").body()).at("/data/0/id").asText();
        assertTrue(!model.isEmpty(), "/v1/models lists the model");
        assertGrpcServes(gateway, model);

        // Both workers take traffic (round-robin over two live workers).
        long[] attempts = {0};
        cluster.awaitTrue("both workers serve requests", Duration.ofSeconds(60), () -> {
            assertChatSucceeds(base, model);
            attempts[0]++;
            return cluster.served(portA) > 0 && cluster.served(portB) > 0;
        }, () -> "after " + attempts[0] + " requests: worker A served " + cluster.served(portA)
                + ", worker B served " + cluster.served(portB) + "; gateway /metrics:\n" + cluster.metricsOf(base));

        // SIGKILL worker A: no goodbye, its member just vanishes.
        workerA.kill();
        long killedAt = System.nanoTime();

        // Within the lease (plus member-failure detection) the gateway routes only to B, and
        // every request succeeds from then on.
        cluster.awaitTrue("requests succeed only on worker B after the kill", Duration.ofSeconds(45), () -> {
            double before = cluster.served(portB);
            for (int i = 0; i < 4; i++) {
                if (!chatSucceeds(base, model)) return false;
            }
            return cluster.served(portB) - before >= 4;
        });
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("killed worker left routing after %.1f s%n", seconds);

        for (int i = 0; i < 10; i++) assertChatSucceeds(base, model);
        assertTrue(workerB.isAlive() && gateway.isAlive(), "worker B and the gateway keep running");
    }

    private static final Pattern GRPC_PORT = Pattern.compile("gRPC \\(KServe v2, tandem\\.v1\\.Generate\\) listening on [^:]+:(\\d+)");

    /** KServe v2 over gRPC, from the port the -cluster gateway printed: the model is ready and a generation completes. */
    private void assertGrpcServes(JarProcess gateway, String model) throws InterruptedException {
        int[] port = {0};
        cluster.awaitTrue("the gateway prints its gRPC port", Duration.ofSeconds(30), () -> {
            Matcher m = GRPC_PORT.matcher(gateway.output());
            if (m.find()) port[0] = Integer.parseInt(m.group(1));
            return port[0] > 0;
        });
        try (GrpcTestClient grpc = new GrpcTestClient(port[0])) {
            assertTrue(grpc.call(GRPCInferenceServiceGrpcClient.ModelReady, ModelReadyRequest.newBuilder().setName(model).build())
                    .single().getReady(), "ModelReady over gRPC");
            ModelInferResponse r = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, KServe.sampling(
                    KServe.request(model, "Tell me a fortune."), new JsonObject().put("max_tokens", 8).put("ignore_eos", true))
                    .build()).single();
            assertEquals(8, r.getParametersOrThrow("completion_tokens").getInt64Param(), r.toString());
            assertTrue(!KServe.text(r).isEmpty(), r.toString());
        }
    }

    private void assertChatSucceeds(String base, String model) {
        if (!chatSucceeds(base, model)) fail("chat completion failed\n" + cluster.logs());
    }

    private boolean chatSucceeds(String base, String model) {
        try {
            // ignore_eos: the simulated engine may draw EOS first; a fixed length makes success exact
            String body = "{\"model\":\"" + model + "\",\"max_tokens\":8,\"ignore_eos\":true,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a fortune.\"}]}";
            HttpResponse<String> r = cluster.postJson(base + "/v1/chat/completions", body);
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
}
