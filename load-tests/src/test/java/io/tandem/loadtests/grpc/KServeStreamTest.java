package io.tandem.loadtests.grpc;

import com.google.protobuf.ByteString;
import io.tandem.protocol.grpc.inference.InferParameter;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class KServeStreamTest {

    private static ModelStreamInferResponse piece(String text, boolean last, long tokens) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer raw = ByteBuffer.allocate(4 + bytes.length).order(ByteOrder.LITTLE_ENDIAN).putInt(bytes.length).put(bytes).flip();
        ModelInferResponse.Builder r = ModelInferResponse.newBuilder().addRawOutputContents(ByteString.copyFrom(raw))
                .putParameters("triton_final_response", InferParameter.newBuilder().setBoolParam(last).build());
        if (last) r.putParameters("completion_tokens", InferParameter.newBuilder().setInt64Param(tokens).build());
        return ModelStreamInferResponse.newBuilder().setInferResponse(r).build();
    }

    @Test
    void aStreamThatEndsAsItShouldIsOk() {
        KServeStream s = new KServeStream(1_000);
        s.response(piece("Hel", false, 0), 5_000);
        s.response(piece("lo", false, 0), 8_000);
        s.response(piece("", true, 3), 9_000);
        KServeStream.Outcome o = s.outcome(3);
        assertTrue(o.ok(), o.error());
        assertEquals("Hello", o.text());
        assertEquals(4_000, o.ttftNanos());
        assertArrayEquals(new long[] {3_000}, o.gapNanos());
        assertEquals(2, o.pieces());
    }

    @Test
    void whatGoesWrongIsNamed() {
        KServeStream noFinal = new KServeStream(0);
        noFinal.response(piece("a", false, 0), 1);
        assertEquals("0 final responses, expected 1", noFinal.outcome(1).error());

        KServeStream shortOne = new KServeStream(0);
        shortOne.response(piece("a", true, 2), 1);
        assertEquals("completion_tokens 2, expected 3", shortOne.outcome(3).error());

        KServeStream error = new KServeStream(0);
        error.response(ModelStreamInferResponse.newBuilder().setErrorMessage("busy").build(), 1);
        assertEquals("error_message: busy", error.outcome(1).error());

        KServeStream after = new KServeStream(0);
        after.response(piece("a", true, 1), 1);
        after.response(piece("b", false, 0), 2);
        assertEquals("a response after the final one", after.outcome(1).error());
    }
}
