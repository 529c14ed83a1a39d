package io.tandem.gateway.grpc;

import com.google.protobuf.ByteString;
import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.RequestParser;
import io.tandem.gateway.slo.SloParser;
import io.tandem.gateway.slo.SloTargets;
import io.tandem.protocol.grpc.inference.InferParameter;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A KServe v2 inference request for a text model, with the tensors and parameters of Triton's LLM backends:
 * <ul>
 *   <li>inputs {@code text_input} (BYTES, one element: the prompt), optional {@code stream} (BOOL, one element) and
 *       {@code sampling_parameters} (BYTES, one element: a JSON object);</li>
 *   <li>request parameters {@code max_tokens}, {@code temperature}, {@code top_p}, {@code seed}, {@code stop}, and
 *       {@code chat_template} (bool: {@code text_input} is a JSON array of {role, content} messages to render with the
 *       model's chat template).</li>
 * </ul>
 * It becomes the OpenAI request the HTTP API would get ({@code /v1/completions}, or {@code /v1/chat/completions} with
 * {@code chat_template}), validated by the same {@link RequestParser}, so a bad value gets the HTTP API's message.
 * Anything else (an unknown input, output or parameter) is refused, not ignored. Pure.
 */
final class InferRequests {

    /** A validated request: its id (echoed in the responses), the completion, and whether to stream pieces. */
    record InferRequest(String id, CompletionRequest completion, boolean stream, SloTargets slo) {}

    /** Request parameters with the request's SLOs in ms, as {@code x-tandem-slo-ttft-ms} / {@code -tpot-ms} over HTTP. */
    static final String SLO_TTFT_MS = "slo_ttft_ms", SLO_TPOT_MS = "slo_tpot_ms";
    static final String TEXT_INPUT = "text_input", STREAM = "stream", SAMPLING_PARAMETERS = "sampling_parameters";
    static final String TEXT_OUTPUT = "text_output";
    static final String CHAT_TEMPLATE = "chat_template";
    /** Triton clients send it to ask for a final response even when it has no data: Tandem always sends one. */
    static final String EMPTY_FINAL_RESPONSE = "triton_enable_empty_final_response";
    /** Request parameters that are sampling settings (as in /v1/completions). */
    static final List<String> SAMPLING_PARAMETER_NAMES = List.of("max_tokens", "temperature", "top_p", "seed", "stop");
    /** Keys {@code sampling_parameters} may hold (as in /v1/completions). */
    static final List<String> SAMPLING_KEYS = List.of("max_tokens", "temperature", "top_p", "top_k", "min_p", "seed", "stop",
            "presence_penalty", "frequency_penalty", "ignore_eos");
    private static final Set<String> INPUTS = Set.of(TEXT_INPUT, STREAM, SAMPLING_PARAMETERS);

    private InferRequests() {}

    static InferRequest parse(ModelInferRequest request) {
        return parse(request, SloTargets.NONE);
    }

    /** @param sloDefaults the SLOs of a request without {@code slo_ttft_ms} / {@code slo_tpot_ms} parameters */
    static InferRequest parse(ModelInferRequest request, SloTargets sloDefaults) {
        Map<String, Tensors.Input> inputs = new HashMap<>();
        for (Tensors.Input in : Tensors.inputs(request)) {
            if (!INPUTS.contains(in.name())) {
                throw ApiException.invalid(in.name(), "unknown input '" + in.name() + "'; the inputs are " + TEXT_INPUT
                        + " (BYTES), " + STREAM + " (BOOL) and " + SAMPLING_PARAMETERS + " (BYTES, a JSON object)");
            }
            if (inputs.put(in.name(), in) != null) throw ApiException.invalid(in.name(), "input '" + in.name() + "' is given twice");
        }
        for (ModelInferRequest.InferRequestedOutputTensor out : request.getOutputsList()) {
            if (!out.getName().equals(TEXT_OUTPUT)) {
                throw ApiException.invalid(out.getName(), "unknown output '" + out.getName() + "'; the output is " + TEXT_OUTPUT);
            }
        }
        Tensors.Input text = inputs.get(TEXT_INPUT);
        if (text == null) throw ApiException.invalid(TEXT_INPUT, "input '" + TEXT_INPUT + "' is required: the prompt, BYTES, shape [1]");
        String prompt = Tensors.utf8(text, single(text, Tensors.bytes(text)));
        if (prompt.isEmpty()) throw ApiException.invalid(TEXT_INPUT, "input '" + TEXT_INPUT + "' is empty; it must hold the prompt");
        boolean stream = inputs.containsKey(STREAM) && single(inputs.get(STREAM), Tensors.bools(inputs.get(STREAM)));

        JsonObject body = new JsonObject().put("model", request.getModelName());
        if (inputs.containsKey(SAMPLING_PARAMETERS)) sampling(body, inputs.get(SAMPLING_PARAMETERS));
        boolean chat = false;
        Object sloTtft = null, sloTpot = null;
        for (Map.Entry<String, InferParameter> p : request.getParametersMap().entrySet()) {
            String name = p.getKey();
            if (name.equals(CHAT_TEMPLATE) || name.equals(EMPTY_FINAL_RESPONSE)) {
                boolean on = bool(name, p.getValue());
                if (name.equals(CHAT_TEMPLATE)) chat = on;
            } else if (name.equals(SLO_TTFT_MS)) {
                sloTtft = value(p.getValue());
            } else if (name.equals(SLO_TPOT_MS)) {
                sloTpot = value(p.getValue());
            } else if (SAMPLING_PARAMETER_NAMES.contains(name)) {
                if (body.containsKey(name)) {
                    throw ApiException.invalid(name, "'" + name + "' is given both as a request parameter and in " + SAMPLING_PARAMETERS);
                }
                body.put(name, value(p.getValue()));
            } else {
                throw ApiException.invalid(name, "unknown parameter '" + name + "'; the parameters are "
                        + String.join(", ", SAMPLING_PARAMETER_NAMES) + ", " + SLO_TTFT_MS + ", " + SLO_TPOT_MS + " and " + CHAT_TEMPLATE);
            }
        }
        Endpoint endpoint = chat ? Endpoint.CHAT : Endpoint.COMPLETION;
        if (chat) body.put("messages", messages(prompt));
        else body.put("prompt", prompt);
        return new InferRequest(request.getId(), RequestParser.parse(endpoint, body), stream,
                SloParser.fromValues(sloTtft, sloTpot, sloDefaults));
    }

    private static <T> T single(Tensors.Input in, List<T> values) {
        if (values.size() != 1) {
            throw ApiException.invalid(in.name(), "input '" + in.name() + "' must hold one element (shape [1]), got " + values.size());
        }
        return values.getFirst();
    }

    private static void sampling(JsonObject body, Tensors.Input in) {
        ByteString raw = single(in, Tensors.bytes(in));
        JsonObject params;
        try {
            params = new JsonObject(Tensors.utf8(in, raw));
        } catch (DecodeException | ClassCastException e) {
            throw ApiException.invalid(SAMPLING_PARAMETERS, "input '" + SAMPLING_PARAMETERS + "' must be a JSON object, e.g. "
                    + "{\"temperature\": 0, \"max_tokens\": 64}");
        }
        for (String key : params.fieldNames()) {
            if (!SAMPLING_KEYS.contains(key)) {
                throw ApiException.invalid(SAMPLING_PARAMETERS, "unknown key '" + key + "' in " + SAMPLING_PARAMETERS
                        + "; the keys are " + String.join(", ", SAMPLING_KEYS));
            }
            body.put(key, params.getValue(key));
        }
    }

    /** With chat_template, the prompt is the conversation: a JSON array of {role, content}. */
    private static JsonArray messages(String prompt) {
        try {
            return new JsonArray(prompt);
        } catch (DecodeException e) {
            throw ApiException.invalid(TEXT_INPUT, "with parameter '" + CHAT_TEMPLATE + "' true, input '" + TEXT_INPUT
                    + "' must be a JSON array of {\"role\", \"content\"} messages");
        }
    }

    private static boolean bool(String name, InferParameter p) {
        if (p.getParameterChoiceCase() != InferParameter.ParameterChoiceCase.BOOL_PARAM) {
            throw ApiException.invalid(name, "parameter '" + name + "' must be a bool_param");
        }
        return p.getBoolParam();
    }

    /** A parameter's value as JSON would carry it, so the parser's type checks and messages apply unchanged. */
    private static Object value(InferParameter p) {
        return switch (p.getParameterChoiceCase()) {
            case BOOL_PARAM -> p.getBoolParam();
            case INT64_PARAM -> p.getInt64Param();
            case STRING_PARAM -> p.getStringParam();
            case DOUBLE_PARAM -> p.getDoubleParam();
            case UINT64_PARAM -> p.getUint64Param() >= 0 ? (Object) p.getUint64Param()
                    : new BigInteger(Long.toUnsignedString(p.getUint64Param()));
            case PARAMETERCHOICE_NOT_SET -> null;
        };
    }
}
