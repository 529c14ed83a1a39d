package io.tandem.gateway.grpc;

import com.google.protobuf.ByteString;
import io.tandem.gateway.api.ApiException;
import io.tandem.protocol.grpc.inference.InferTensorContents;
import io.tandem.protocol.grpc.inference.ModelInferRequest;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The data of KServe v2 input tensors, as a request carries it: either typed {@code contents} per input, or one
 * {@code raw_input_contents} buffer per input (at the input's index, for all inputs or none). In a raw buffer a BYTES
 * element is a 4-byte little-endian length and that many bytes (Triton's layout), a BOOL element one byte. Checks the
 * datatype and that the shape's element count is the data's. Errors are 400s naming the input. Pure.
 */
final class Tensors {

    /** One input: its declaration and its data (exactly one of {@code contents} and {@code raw} is non-null). */
    record Input(String name, String datatype, List<Long> shape, InferTensorContents contents, ByteString raw) {}

    private Tensors() {}

    /** The request's inputs with their data, after checking that raw and typed contents are not mixed. */
    static List<Input> inputs(ModelInferRequest request) {
        int raws = request.getRawInputContentsCount();
        int n = request.getInputsCount();
        if (raws > 0 && raws != n) {
            throw ApiException.invalid("raw_input_contents", "raw_input_contents holds " + raws + " buffers for " + n
                    + " inputs; send one per input, in the order of the inputs (or use contents for all)");
        }
        List<Input> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ModelInferRequest.InferInputTensor t = request.getInputs(i);
            if (raws > 0 && t.hasContents() && elements(t.getContents()) > 0) {
                throw ApiException.invalid(t.getName(), "input '" + t.getName() + "' has contents while the request uses "
                        + "raw_input_contents; use one or the other for all inputs");
            }
            out.add(new Input(t.getName(), t.getDatatype(), t.getShapeList(), raws > 0 ? null : t.getContents(),
                    raws > 0 ? request.getRawInputContents(i) : null));
        }
        return out;
    }

    /** The elements of a BYTES input. */
    static List<ByteString> bytes(Input in) {
        expectDatatype(in, "BYTES");
        List<ByteString> values;
        if (in.raw() != null) {
            values = rawBytes(in);
        } else {
            onlyField(in, in.contents().getBytesContentsCount(), "bytes_contents");
            values = in.contents().getBytesContentsList();
        }
        expectCount(in, values.size());
        return values;
    }

    /** The elements of a BOOL input. */
    static List<Boolean> bools(Input in) {
        expectDatatype(in, "BOOL");
        List<Boolean> values = new ArrayList<>();
        if (in.raw() != null) {
            for (byte b : in.raw().toByteArray()) values.add(b != 0);
        } else {
            onlyField(in, in.contents().getBoolContentsCount(), "bool_contents");
            values.addAll(in.contents().getBoolContentsList());
        }
        expectCount(in, values.size());
        return values;
    }

    /** One BYTES element as UTF-8 text. */
    static String utf8(Input in, ByteString value) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(value.asReadOnlyByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw ApiException.invalid(in.name(), "input '" + in.name() + "' is not valid UTF-8 text");
        }
    }

    /** BYTES elements as one raw buffer: each a 4-byte little-endian length, then its bytes. */
    static ByteString rawBytes(List<ByteString> elements) {
        int size = 0;
        for (ByteString e : elements) size += 4 + e.size();
        ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        for (ByteString e : elements) {
            buf.putInt(e.size());
            e.copyTo(buf);
        }
        buf.flip();
        return ByteString.copyFrom(buf);
    }

    /** The number of elements a shape holds. */
    static long elementCount(Input in) {
        long count = 1;
        for (long d : in.shape()) {
            if (d < 0) throw ApiException.invalid(in.name(), "input '" + in.name() + "' has shape " + in.shape() + ": a dimension is negative");
            count = Math.multiplyExact(count, d);
        }
        return count;
    }

    private static List<ByteString> rawBytes(Input in) {
        ByteBuffer buf = in.raw().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        List<ByteString> values = new ArrayList<>();
        while (buf.hasRemaining()) {
            if (buf.remaining() < 4) throw truncated(in);
            int length = buf.getInt();
            if (length < 0 || length > buf.remaining()) throw truncated(in);
            byte[] element = new byte[length];
            buf.get(element);
            values.add(ByteString.copyFrom(element));
        }
        return values;
    }

    private static ApiException truncated(Input in) {
        return ApiException.invalid(in.name(), "raw_input_contents of input '" + in.name() + "' is not a sequence of "
                + "BYTES elements (each a 4-byte little-endian length, then that many bytes)");
    }

    private static void expectDatatype(Input in, String datatype) {
        if (!datatype.equals(in.datatype())) {
            throw ApiException.invalid(in.name(), "input '" + in.name() + "' must have datatype " + datatype + ", got '"
                    + in.datatype() + "'");
        }
    }

    private static void expectCount(Input in, int elements) {
        if (in.shape().isEmpty()) {
            throw ApiException.invalid(in.name(), "input '" + in.name() + "' has no shape; expected [1]");
        }
        long expected = elementCount(in);
        if (expected != elements) {
            throw ApiException.invalid(in.name(), "input '" + in.name() + "' has shape " + in.shape() + " (" + expected
                    + " element(s)) but its data holds " + elements);
        }
    }

    /** Typed contents of a datatype go in its field; data in any other field is a mistake, not something to ignore. */
    private static void onlyField(Input in, int ownCount, String own) {
        int others = elements(in.contents()) - ownCount;
        if (others > 0) {
            throw ApiException.invalid(in.name(), "input '" + in.name() + "' is " + in.datatype() + ": its data belongs in "
                    + "contents." + own + ", not in another contents field");
        }
    }

    private static int elements(InferTensorContents c) {
        return c.getBoolContentsCount() + c.getIntContentsCount() + c.getInt64ContentsCount() + c.getUintContentsCount()
                + c.getUint64ContentsCount() + c.getFp32ContentsCount() + c.getFp64ContentsCount() + c.getBytesContentsCount();
    }
}
