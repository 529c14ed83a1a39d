package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.Message;
import io.tandem.gateway.api.Prompt;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class InferRequestsTest {

    private static String invalid(ModelInferRequest.Builder r) {
        ApiException e = assertThrows(ApiException.class, () -> InferRequests.parse(r.build()));
        assertEquals(400, e.status());
        return e.getMessage();
    }

    @Test
    void theTensorsAndParametersBecomeACompletionRequest() {
        ModelInferRequest.Builder r = KServe.stream(KServe.sampling(KServe.request("m", "Once upon"),
                new JsonObject().put("top_k", 5).put("ignore_eos", true).put("stop", new JsonArray().add("a").add("b"))), true)
                .setId("abc")
                .putParameters("max_tokens", KServe.int64(12)).putParameters("temperature", KServe.dbl(0.5))
                .putParameters("top_p", KServe.dbl(0.9)).putParameters("seed", KServe.int64(7))
                .putParameters("triton_enable_empty_final_response", KServe.bool(true))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("text_output"));
        InferRequests.InferRequest parsed = InferRequests.parse(r.build());
        assertEquals("abc", parsed.id());
        assertTrue(parsed.stream());
        CompletionRequest c = parsed.completion();
        assertEquals(Endpoint.COMPLETION, c.endpoint());
        assertEquals("m", c.model());
        assertEquals(new Prompt.Text("Once upon"), c.prompt());
        assertEquals(12, c.maxTokens());
        assertEquals(0.5, c.temperature());
        assertEquals(0.9, c.topP());
        assertEquals(5, c.topK());
        assertEquals(7L, c.seed());
        assertEquals(List.of("a", "b"), c.stop());
        assertTrue(c.ignoreEos());
        assertFalse(c.stream(), "the OpenAI stream flag stays off: the KServe one says how to answer");
        assertFalse(InferRequests.parse(KServe.request("m", "x").build()).stream(), "stream defaults to false");
    }

    @Test
    void chatTemplateTakesTheConversation() {
        JsonArray messages = new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"));
        CompletionRequest c = InferRequests.parse(KServe.request("m", messages.encode())
                .putParameters("chat_template", KServe.bool(true)).build()).completion();
        assertEquals(Endpoint.CHAT, c.endpoint());
        assertEquals(List.of(new Message("user", "hi")), c.messages());
        // false: the same text is a plain prompt
        assertEquals(new Prompt.Text(messages.encode()), InferRequests.parse(KServe.request("m", messages.encode())
                .putParameters("chat_template", KServe.bool(false)).build()).completion().prompt());
    }

    @Test
    void whatIsNotUnderstoodIsRefused() {
        assertEquals("input 'text_input' is required: the prompt, BYTES, shape [1]", invalid(ModelInferRequest.newBuilder().setModelName("m")));
        assertEquals("input 'text_input' is empty; it must hold the prompt", invalid(KServe.request("m", "")));
        assertEquals("input 'text_input' is given twice",
                invalid(KServe.request("m", "a").addInputs(KServe.bytesInput("text_input", com.google.protobuf.ByteString.copyFromUtf8("b")))));
        assertEquals("unknown output 'logits'; the output is text_output", invalid(KServe.request("m", "a")
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("logits"))));
        assertEquals("parameter 'chat_template' must be a bool_param",
                invalid(KServe.request("m", "a").putParameters("chat_template", KServe.string("yes"))));
        assertEquals("'temperature' is given both as a request parameter and in sampling_parameters",
                invalid(KServe.sampling(KServe.request("m", "a"), new JsonObject().put("temperature", 1))
                        .putParameters("temperature", KServe.dbl(0))));
        assertTrue(invalid(KServe.request("m", "a").addInputs(KServe.bytesInput("sampling_parameters",
                com.google.protobuf.ByteString.copyFromUtf8("[1]")))).startsWith("input 'sampling_parameters' must be a JSON object"));
        assertEquals("input 'stream' must hold one element (shape [1]), got 2", invalid(KServe.request("m", "a")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("stream").setDatatype("BOOL").addShape(2)
                        .setContents(io.tandem.protocol.grpc.inference.InferTensorContents.newBuilder().addBoolContents(true).addBoolContents(true)))));
        // the parser's own message for a value of the wrong type
        assertEquals("'stop' must be a string or an array of strings, got a number",
                invalid(KServe.request("m", "a").putParameters("stop", KServe.int64(3))));
    }

    @Test
    void sloParametersOverTheGatewaysDefaults() {
        io.tandem.gateway.slo.SloTargets defaults = new io.tandem.gateway.slo.SloTargets(1000, 50);
        assertEquals(defaults, InferRequests.parse(KServe.request("m", "a").build(), defaults).slo());
        assertEquals(new io.tandem.gateway.slo.SloTargets(200, 50), InferRequests.parse(KServe.request("m", "a")
                .putParameters("slo_ttft_ms", KServe.int64(200)).build(), defaults).slo());
        assertEquals(new io.tandem.gateway.slo.SloTargets(1000, 12.5), InferRequests.parse(KServe.request("m", "a")
                .putParameters("slo_tpot_ms", KServe.dbl(12.5)).build(), defaults).slo());
        assertEquals("'slo_ttft_ms' must be a number of milliseconds above 0 and at most 3600000, got -1",
                invalid(KServe.request("m", "a").putParameters("slo_ttft_ms", KServe.int64(-1))));
    }
}
