package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

/** A tensor whose ggml type the engine cannot compute with; the message names the tensor and its type. */
public final class UnsupportedTensorTypeException extends IllegalArgumentException {
    private final String tensor;
    private final GgufTensorType type;

    public UnsupportedTensorTypeException(String tensor, GgufTensorType type) {
        super("tensor '" + tensor + "' has type " + type + ", which the engine does not support (supported: "
                + WeightMatrix.SUPPORTED_TYPES + ")");
        this.tensor = tensor;
        this.type = type;
    }

    public String tensor() {
        return tensor;
    }

    public GgufTensorType type() {
        return type;
    }
}
