package io.tandem.gateway.grpc;

import com.google.protobuf.ByteString;
import io.tandem.protocol.grpc.inference.InferParameter;
import io.tandem.protocol.grpc.inference.InferTensorContents;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builds KServe v2 text requests the way Triton clients do, and reads their text_output. */
public final class KServe {

    private KServe() {}

    public static ModelInferRequest.Builder request(String model, String text) {
        return ModelInferRequest.newBuilder().setModelName(model).setId("req-1")
                .addInputs(bytesInput(InferRequests.TEXT_INPUT, ByteString.copyFromUtf8(text)));
    }

    static ModelInferRequest.InferInputTensor.Builder bytesInput(String name, ByteString... elements) {
        return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype("BYTES").addShape(elements.length)
                .setContents(InferTensorContents.newBuilder().addAllBytesContents(List.of(elements)));
    }

    static ModelInferRequest.InferInputTensor.Builder boolInput(String name, boolean value) {
        return ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype("BOOL").addShape(1)
                .setContents(InferTensorContents.newBuilder().addBoolContents(value));
    }

    static ModelInferRequest.Builder stream(ModelInferRequest.Builder r, boolean stream) {
        return r.addInputs(boolInput(InferRequests.STREAM, stream));
    }

    public static ModelInferRequest.Builder sampling(ModelInferRequest.Builder r, JsonObject sampling) {
        return r.addInputs(bytesInput(InferRequests.SAMPLING_PARAMETERS, ByteString.copyFromUtf8(sampling.encode())));
    }

    static InferParameter int64(long v) {
        return InferParameter.newBuilder().setInt64Param(v).build();
    }

    static InferParameter dbl(double v) {
        return InferParameter.newBuilder().setDoubleParam(v).build();
    }

    static InferParameter bool(boolean v) {
        return InferParameter.newBuilder().setBoolParam(v).build();
    }

    static InferParameter string(String v) {
        return InferParameter.newBuilder().setStringParam(v).build();
    }

    /** The one text_output element of a response (raw, Triton's 4-byte length prefix). */
    public static String text(ModelInferResponse r) {
        if (r.getOutputsCount() != 1 || !r.getOutputs(0).getName().equals("text_output")) {
            throw new AssertionError("no text_output: " + r);
        }
        ByteBuffer raw = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int length = raw.getInt();
        if (length != raw.remaining()) throw new AssertionError("length prefix " + length + ", " + raw.remaining() + " bytes");
        byte[] bytes = new byte[length];
        raw.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    public static boolean isFinal(ModelInferResponse r) {
        InferParameter p = r.getParametersOrDefault(InferResponses.FINAL_RESPONSE, null);
        if (p == null) throw new AssertionError("no triton_final_response: " + r);
        return p.getBoolParam();
    }
}
