package io.tandem.gateway.grpc;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.slo.SloAdmission;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcClient;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** gRPC requests carry SLOs as request parameters; {@code --admission slo} refuses the unattainable with RESOURCE_EXHAUSTED. */
class GrpcSloTest {

    private static ModelInferRequest.Builder prompt(String model, int serial) {
        StringBuilder text = new StringBuilder("request ").append(serial).append(':');
        for (int i = 0; i < 60; i++) text.append(' ').append((char) ('a' + (serial + i) % 26)).append(i);
        return KServe.request(model, text.toString()).putParameters("max_tokens", KServe.int64(4));
    }

    @Test
    void anUnattainableTtftParameterIsResourceExhaustedWithThePrediction() {
        Gateway gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0)
                .setEngine("sim").setPrefillWorkers(0).setAdmission(SloAdmission.SLO)
                .setEngineOptions(Map.of("prefillNanosPerToken", 200_000L, "decodeStepNanos", 2_000_000L)));
        GrpcTestClient grpc = new GrpcTestClient(gateway.grpcPort());
        try {
            String model = gateway.workers().getFirst().record().model();
            for (int i = 0; i < 3; i++) {
                assertEquals(GrpcStatus.OK, grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer, prompt(model, i).build()).status());
            }
            TestSupport.await("the worker reported its measured rates", Duration.ofSeconds(20),
                    () -> gateway.registry().liveWorkers().stream().allMatch(w -> w.load() != null && w.load().measured()));

            var refused = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer,
                    prompt(model, 10).putParameters("slo_ttft_ms", KServe.int64(1)).build());
            assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, refused.status(), refused.toString());
            assertTrue(refused.message().startsWith("The TTFT SLO of 1 ms cannot be met: the best predicted time to first token is "),
                    refused.message());

            var served = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer,
                    prompt(model, 11).putParameters("slo_ttft_ms", KServe.dbl(60_000)).build());
            assertEquals(GrpcStatus.OK, served.status(), served.toString());

            var bad = grpc.call(GRPCInferenceServiceGrpcClient.ModelInfer,
                    prompt(model, 12).putParameters("slo_tpot_ms", KServe.string("fast")).build());
            assertEquals(GrpcStatus.INVALID_ARGUMENT, bad.status(), bad.toString());
        } finally {
            grpc.close();
            TestSupport.sync(gateway.stop());
        }
    }
}
