package io.tandem.gateway.grpc;

import com.google.protobuf.ByteString;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.Usage;
import io.tandem.protocol.grpc.inference.InferParameter;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;

import java.util.List;

/**
 * KServe v2 responses carrying generated text: one {@code text_output} element (BYTES, shape [1]) in
 * {@code raw_output_contents}, as Triton answers (a 4-byte little-endian length, then the UTF-8 text). In a stream,
 * Triton's decoupled convention: the parameter {@code triton_final_response} is false on every response but the last.
 * The last one (the only one of ModelInfer) also carries {@code finish_reason} ("stop" or "length"),
 * {@code prompt_tokens} and {@code completion_tokens}. Pure.
 */
final class InferResponses {

    static final String FINAL_RESPONSE = "triton_final_response";
    static final String FINISH_REASON = "finish_reason";
    static final String PROMPT_TOKENS = "prompt_tokens";
    static final String COMPLETION_TOKENS = "completion_tokens";

    private InferResponses() {}

    /** A piece in the middle of a stream. */
    static ModelInferResponse piece(String model, String id, String text) {
        return text(model, id, text, null, null, true);
    }

    /**
     * The end: the whole text (ModelInfer, or a stream's request with stream=false) or a stream's last piece.
     *
     * @param stream whether the response is part of a stream (it then carries {@value #FINAL_RESPONSE})
     */
    static ModelInferResponse last(String model, String id, String text, FinishReason finish, Usage usage, boolean stream) {
        return text(model, id, text, finish, usage, stream);
    }

    private static ModelInferResponse text(String model, String id, String text, FinishReason finish, Usage usage, boolean stream) {
        ModelInferResponse.Builder r = ModelInferResponse.newBuilder()
                .setModelName(model)
                .setModelVersion(ModelDescriptions.VERSION)
                .setId(id)
                .addOutputs(ModelInferResponse.InferOutputTensor.newBuilder()
                        .setName(InferRequests.TEXT_OUTPUT).setDatatype("BYTES").addShape(1))
                .addRawOutputContents(Tensors.rawBytes(List.of(ByteString.copyFromUtf8(text))));
        if (stream) r.putParameters(FINAL_RESPONSE, InferParameter.newBuilder().setBoolParam(finish != null).build());
        if (finish != null) {
            r.putParameters(FINISH_REASON, InferParameter.newBuilder().setStringParam(finish.openAiName()).build());
            r.putParameters(PROMPT_TOKENS, InferParameter.newBuilder().setInt64Param(usage.promptTokens()).build());
            r.putParameters(COMPLETION_TOKENS, InferParameter.newBuilder().setInt64Param(usage.completionTokens()).build());
        }
        return r.build();
    }

    /** A piece of a stream. */
    static ModelStreamInferResponse streamed(ModelInferResponse response) {
        return ModelStreamInferResponse.newBuilder().setInferResponse(response).build();
    }

    /** A request of a stream failed: its error, as Triton sends it, with the request's id; the stream goes on. */
    static ModelStreamInferResponse streamError(String model, String id, String message) {
        return ModelStreamInferResponse.newBuilder()
                .setErrorMessage(message)
                .setInferResponse(ModelInferResponse.newBuilder().setModelName(model).setModelVersion(ModelDescriptions.VERSION)
                        .setId(id).putParameters(FINAL_RESPONSE, InferParameter.newBuilder().setBoolParam(true).build()))
                .build();
    }
}
