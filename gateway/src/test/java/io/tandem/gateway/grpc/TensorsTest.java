package io.tandem.gateway.grpc;

import com.google.protobuf.ByteString;
import io.tandem.gateway.api.ApiException;
import io.tandem.protocol.grpc.inference.InferTensorContents;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TensorsTest {

    private static ModelInferRequest.InferInputTensor.Builder declared(String name, String datatype, long... shape) {
        ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder().setName(name).setDatatype(datatype);
        for (long d : shape) t.addShape(d);
        return t;
    }

    private static String invalid(Runnable r) {
        ApiException e = assertThrows(ApiException.class, r::run);
        assertEquals(400, e.status());
        return e.getMessage();
    }

    @Test
    void bytesElementsComeFromContentsOrFromTritonsRawLayout() {
        List<ByteString> values = List.of(ByteString.copyFromUtf8("héllo"), ByteString.EMPTY, ByteString.copyFromUtf8("x"));
        ModelInferRequest typed = ModelInferRequest.newBuilder()
                .addInputs(declared("t", "BYTES", 3).setContents(InferTensorContents.newBuilder().addAllBytesContents(values))).build();
        assertEquals(values, Tensors.bytes(Tensors.inputs(typed).getFirst()));

        ByteString raw = Tensors.rawBytes(values);
        assertEquals(4 + 6 + 4 + 4 + 1, raw.size(), "a 4-byte length before each element");
        assertEquals(6, raw.byteAt(0), "little-endian length");
        ModelInferRequest asRaw = ModelInferRequest.newBuilder().addInputs(declared("t", "BYTES", 1, 3)).addRawInputContents(raw).build();
        assertEquals(values, Tensors.bytes(Tensors.inputs(asRaw).getFirst()));
    }

    @Test
    void boolElementsComeFromContentsOrOneBytePerElement() {
        ModelInferRequest typed = ModelInferRequest.newBuilder()
                .addInputs(declared("s", "BOOL", 1).setContents(InferTensorContents.newBuilder().addBoolContents(true))).build();
        assertEquals(List.of(true), Tensors.bools(Tensors.inputs(typed).getFirst()));
        ModelInferRequest raw = ModelInferRequest.newBuilder().addInputs(declared("s", "BOOL", 2))
                .addRawInputContents(ByteString.copyFrom(new byte[] {0, 1})).build();
        assertEquals(List.of(false, true), Tensors.bools(Tensors.inputs(raw).getFirst()));
    }

    @Test
    void mistakesAreNamed() {
        ModelInferRequest wrongType = ModelInferRequest.newBuilder()
                .addInputs(declared("t", "INT32", 1).setContents(InferTensorContents.newBuilder().addIntContents(4))).build();
        assertEquals("input 't' must have datatype BYTES, got 'INT32'", invalid(() -> Tensors.bytes(Tensors.inputs(wrongType).getFirst())));

        ModelInferRequest shape = ModelInferRequest.newBuilder()
                .addInputs(declared("t", "BYTES", 2, 2).setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.EMPTY))).build();
        assertEquals("input 't' has shape [2, 2] (4 element(s)) but its data holds 1",
                invalid(() -> Tensors.bytes(Tensors.inputs(shape).getFirst())));

        ModelInferRequest noShape = ModelInferRequest.newBuilder()
                .addInputs(declared("t", "BYTES").setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.EMPTY))).build();
        assertEquals("input 't' has no shape; expected [1]", invalid(() -> Tensors.bytes(Tensors.inputs(noShape).getFirst())));

        ModelInferRequest misplaced = ModelInferRequest.newBuilder()
                .addInputs(declared("t", "BYTES", 1).setContents(InferTensorContents.newBuilder().addFp32Contents(1f))).build();
        assertEquals("input 't' is BYTES: its data belongs in contents.bytes_contents, not in another contents field",
                invalid(() -> Tensors.bytes(Tensors.inputs(misplaced).getFirst())));

        ModelInferRequest truncated = ModelInferRequest.newBuilder().addInputs(declared("t", "BYTES", 1))
                .addRawInputContents(ByteString.copyFrom(new byte[] {9, 0, 0, 0, 'a'})).build();
        assertTrue(invalid(() -> Tensors.bytes(Tensors.inputs(truncated).getFirst())).startsWith("raw_input_contents of input 't' is not"));

        ModelInferRequest tooFewRaw = ModelInferRequest.newBuilder().addInputs(declared("a", "BYTES", 1)).addInputs(declared("b", "BOOL", 1))
                .addRawInputContents(Tensors.rawBytes(List.of(ByteString.EMPTY))).build();
        assertTrue(invalid(() -> Tensors.inputs(tooFewRaw)).startsWith("raw_input_contents holds 1 buffers for 2 inputs"));

        ModelInferRequest mixed = ModelInferRequest.newBuilder()
                .addInputs(declared("a", "BYTES", 1).setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.EMPTY)))
                .addRawInputContents(Tensors.rawBytes(List.of(ByteString.EMPTY))).build();
        assertTrue(invalid(() -> Tensors.inputs(mixed)).contains("use one or the other"));

        ModelInferRequest notUtf8 = ModelInferRequest.newBuilder().addInputs(declared("t", "BYTES", 1)
                .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFrom(new byte[] {(byte) 0xC3})))).build();
        Tensors.Input in = Tensors.inputs(notUtf8).getFirst();
        assertEquals("input 't' is not valid UTF-8 text", invalid(() -> Tensors.utf8(in, Tensors.bytes(in).getFirst())));
    }
}
