package io.tandem.gateway.it;

import io.tandem.gateway.GatewayOptions;
import io.tandem.worker.disagg.DisaggregationOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every test of {@link CpuEngineGatewayTest} again — llama.cpp's greedy tokens and logprobs through the OpenAI API,
 * the prefix-cache hit reported in usage — with the embedded gateway disaggregated: one prefill and one decode
 * worker, every prompt longer than 4 uncached tokens prefilled on the prefill worker and its KV moved over tcp.
 */
class DisaggregatedCpuEngineGatewayTest extends CpuEngineGatewayTest {

    @BeforeAll
    static void start() {
        Path model = TestSupport.repoRoot().resolve("testdata/models/" + MODEL + ".gguf");
        gateway = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setModels(List.of(model))
                .setEngine("cpu").setEngineOptions(Map.of("threads", 1, "kv-cache-memory", "32MiB", "kv-dtype", "f32"))
                .setPrefillWorkers(1)
                .setDisaggregation(DisaggregationOptions.DEFAULTS.withTransfer("tcp").withMaxLocalPrefillTokens(4)));
    }

    @Test
    void longPromptsArePrefilledRemotelyAndShortOnesLocally() throws Exception {
        double remoteBefore = metric("tandem_prefills_total", "where=\"remote\"");
        tokenIdPromptsAtTemperatureZeroReturnTheGoldenGreedyTokens();
        assertTrue(metric("tandem_prefills_total", "where=\"remote\"") > remoteBefore, "golden prompts went to the prefill worker");
        assertTrue(metric("tandem_transfer_bytes_total", "backend=\"tcp\"") > 0, "KV moved over tcp");
        assertEquals(0, metric("tandem_prefill_fallbacks_total", ""), "no fallback");
    }

    /** The sum of a metric's samples whose labels contain {@code label}, from the gateway's /metrics. */
    private static double metric(String name, String label) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(uri("/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("^" + name + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE).matcher(text);
        double sum = 0;
        while (m.find()) if (m.group(1).contains(label)) sum += Double.parseDouble(m.group(2));
        return sum;
    }
}
