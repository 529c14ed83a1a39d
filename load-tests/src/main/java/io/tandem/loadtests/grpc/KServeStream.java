package io.tandem.loadtests.grpc;

import io.tandem.protocol.grpc.inference.InferParameter;
import io.tandem.protocol.grpc.inference.ModelInferResponse;
import io.tandem.protocol.grpc.inference.ModelStreamInferResponse;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * What one ModelStreamInfer request came to, fed its responses as they arrive: the time to its first text, the gaps
 * between its pieces, its text, and whether it ended as it should — exactly one {@code triton_final_response}, last,
 * no {@code error_message}, the {@code completion_tokens} it asked for. Pure: the caller passes the receive times.
 */
public final class KServeStream {

    /**
     * @param error            null when the request delivered what it should
     * @param ttftNanos        from sending to the first non-empty piece, -1 without one
     * @param gapNanos         between consecutive pieces
     * @param completionTokens as the final response says, -1 without one
     */
    public record Outcome(String error, long ttftNanos, long[] gapNanos, int pieces, long completionTokens, String text) {
        public boolean ok() {
            return error == null;
        }
    }

    private final long sentNanos;
    private final StringBuilder text = new StringBuilder();
    private long firstNanos = -1, lastNanos = -1;
    private long[] gaps = new long[64];
    private int gapCount, pieces, finals;
    private long completionTokens = -1;
    private String error;

    public KServeStream(long sentNanos) {
        this.sentNanos = sentNanos;
    }

    public void response(ModelStreamInferResponse r, long nanos) {
        if (!r.getErrorMessage().isEmpty()) {
            fail("error_message: " + r.getErrorMessage());
            return;
        }
        if (finals > 0) fail("a response after the final one");
        ModelInferResponse infer = r.getInferResponse();
        String piece;
        try {
            piece = textOutput(infer);
        } catch (IllegalArgumentException e) {
            fail(e.getMessage());
            return;
        }
        if (!piece.isEmpty()) {
            if (firstNanos < 0) {
                firstNanos = nanos;
            } else {
                if (gapCount == gaps.length) gaps = Arrays.copyOf(gaps, gapCount * 2);
                gaps[gapCount++] = nanos - lastNanos;
            }
            lastNanos = nanos;
            pieces++;
            text.append(piece);
        }
        InferParameter last = infer.getParametersOrDefault("triton_final_response", null);
        if (last == null) fail("a response without triton_final_response");
        else if (last.getBoolParam()) {
            finals++;
            InferParameter tokens = infer.getParametersOrDefault("completion_tokens", null);
            if (tokens != null) completionTokens = tokens.getInt64Param();
        }
    }

    /** The call failed (its status, the connection). The first reason counts. */
    public void fail(String why) {
        if (error == null) error = why;
    }

    /** The call ended; {@code expectedTokens} is what max_tokens with ignore_eos promises. */
    public Outcome outcome(int expectedTokens) {
        String why = error;
        if (why == null && finals != 1) why = finals + " final responses, expected 1";
        if (why == null && completionTokens != expectedTokens) why = "completion_tokens " + completionTokens + ", expected " + expectedTokens;
        return new Outcome(why, firstNanos < 0 ? -1 : firstNanos - sentNanos, Arrays.copyOf(gaps, gapCount), pieces,
                completionTokens, text.toString());
    }

    /** The text_output of a response: raw_output_contents, a 4-byte little-endian length, then UTF-8 bytes. */
    static String textOutput(ModelInferResponse r) {
        if (r.getRawOutputContentsCount() != 1) throw new IllegalArgumentException("expected one raw_output_contents, got " + r.getRawOutputContentsCount());
        ByteBuffer raw = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (raw.remaining() < 4) throw new IllegalArgumentException("raw_output_contents shorter than its length prefix");
        int length = raw.getInt();
        if (length != raw.remaining()) throw new IllegalArgumentException("length prefix " + length + " for " + raw.remaining() + " bytes");
        byte[] bytes = new byte[length];
        raw.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
