package io.tandem.gateway.grpc;

import io.tandem.gateway.preprocess.ServedModel;
import io.tandem.protocol.grpc.inference.DataType;
import io.tandem.protocol.grpc.inference.ModelConfig;
import io.tandem.protocol.grpc.inference.ModelInput;
import io.tandem.protocol.grpc.inference.ModelMetadataResponse;
import io.tandem.protocol.grpc.inference.ModelOutput;
import io.tandem.protocol.grpc.inference.ModelParameter;
import io.tandem.protocol.grpc.inference.ModelTransactionPolicy;

/**
 * What {@code ModelMetadata} and {@code ModelConfig} say of a served model: the tensors of Triton's LLM backends
 * ({@link InferRequests}), one version ("1"), and a decoupled transaction policy (a request may get many responses,
 * the way {@code ModelStreamInfer} streams text). Pure.
 */
final class ModelDescriptions {

    /** The one version of every model. */
    static final String VERSION = "1";
    static final String PLATFORM = "tandem";

    private ModelDescriptions() {}

    static ModelMetadataResponse metadata(ServedModel model) {
        return ModelMetadataResponse.newBuilder()
                .setName(model.name())
                .addVersions(VERSION)
                .setPlatform(PLATFORM)
                .addInputs(tensor(InferRequests.TEXT_INPUT, "BYTES", 1))
                .addInputs(tensor(InferRequests.STREAM, "BOOL", 1))
                .addInputs(tensor(InferRequests.SAMPLING_PARAMETERS, "BYTES", 1))
                .addOutputs(tensor(InferRequests.TEXT_OUTPUT, "BYTES", -1))
                .build();
    }

    static ModelConfig config(ServedModel model) {
        return ModelConfig.newBuilder()
                .setName(model.name())
                .setPlatform(PLATFORM)
                .setBackend(PLATFORM)
                .setMaxBatchSize(0) // shapes are per request: Tandem batches on its workers, not in the tensors
                .addInput(input(InferRequests.TEXT_INPUT, DataType.TYPE_STRING, false))
                .addInput(input(InferRequests.STREAM, DataType.TYPE_BOOL, true))
                .addInput(input(InferRequests.SAMPLING_PARAMETERS, DataType.TYPE_STRING, true))
                .addOutput(ModelOutput.newBuilder().setName(InferRequests.TEXT_OUTPUT).setDataType(DataType.TYPE_STRING).addDims(-1))
                .setModelTransactionPolicy(ModelTransactionPolicy.newBuilder().setDecoupled(true))
                .putParameters("max_model_len", ModelParameter.newBuilder().setStringValue(Integer.toString(model.contextLength())).build())
                .putParameters("fingerprint", ModelParameter.newBuilder().setStringValue(model.fingerprint()).build())
                .build();
    }

    private static ModelMetadataResponse.TensorMetadata tensor(String name, String datatype, long dim) {
        return ModelMetadataResponse.TensorMetadata.newBuilder().setName(name).setDatatype(datatype).addShape(dim).build();
    }

    private static ModelInput input(String name, DataType type, boolean optional) {
        return ModelInput.newBuilder().setName(name).setDataType(type).addDims(1).setOptional(optional).build();
    }
}
