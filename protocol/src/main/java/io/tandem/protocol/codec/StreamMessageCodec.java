package io.tandem.protocol.codec;

import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;

/**
 * The whole {@link StreamMessage} family: a kind byte, then the variant's fields. Vert.x looks
 * default codecs up by the body's exact class, so one instance is registered per variant, each
 * under its own name; any instance decodes every variant.
 */
public final class StreamMessageCodec extends BinaryCodec<StreamMessage> {
    private static final byte TOKENS = 0, FINISHED = 1, FAILED = 2, ALIVE = 3;

    public StreamMessageCodec(String name) {
        super(name, "StreamMessage");
    }

    @Override
    void write(WireWriter w, StreamMessage m) {
        switch (m) {
            case StreamMessage.Tokens t -> {
                w.writeByte(TOKENS).writeString(t.requestId()).writeLong(t.seq()).writeInts(t.tokens());
                writeLogprobs(w, t.logprobs());
            }
            case StreamMessage.Finished f -> {
                w.writeByte(FINISHED).writeString(f.requestId()).writeByte(f.reason() == null ? -1 : f.reason().ordinal());
                Usage u = f.usage();
                w.writeBoolean(u != null);
                if (u != null) w.writeInt(u.promptTokens()).writeInt(u.completionTokens()).writeInt(u.cachedTokens());
            }
            case StreamMessage.Alive a -> w.writeByte(ALIVE).writeString(a.requestId());
            case StreamMessage.Failed f -> w.writeByte(FAILED).writeString(f.requestId())
                    .writeInt(f.code() == null ? ErrorCode.INTERNAL.code() : f.code().code()).writeString(f.message());
        }
    }

    @Override
    StreamMessage read(WireReader r) {
        byte kind = r.readByte();
        return switch (kind) {
            case TOKENS -> new StreamMessage.Tokens(r.readString(), r.readLong(), r.readInts(), readLogprobs(r));
            case FINISHED -> {
                String id = r.readString();
                byte reason = r.readByte();
                Usage usage = r.readBoolean() ? new Usage(r.readInt(), r.readInt(), r.readInt()) : null;
                yield new StreamMessage.Finished(id, reason < 0 ? null : enumAt(FinishReason.values(), reason), usage);
            }
            case ALIVE -> new StreamMessage.Alive(r.readString());
            case FAILED -> new StreamMessage.Failed(r.readString(), ErrorCode.fromCode(r.readInt()), r.readString());
            default -> throw new IllegalStateException("corrupt StreamMessage: unknown kind " + kind);
        };
    }

    private static void writeLogprobs(WireWriter w, TokenLogprobs[] lps) {
        if (lps == null) {
            w.writeInt(-1);
            return;
        }
        w.writeInt(lps.length);
        for (TokenLogprobs lp : lps) {
            w.writeBoolean(lp != null);
            if (lp != null) w.writeInt(lp.token()).writeFloat(lp.logprob()).writeInts(lp.topTokens()).writeFloats(lp.topLogprobs());
        }
    }

    private static TokenLogprobs[] readLogprobs(WireReader r) {
        int n = r.readLength();
        if (n < 0) return null;
        TokenLogprobs[] lps = new TokenLogprobs[n];
        for (int i = 0; i < n; i++) {
            if (r.readBoolean()) lps[i] = new TokenLogprobs(r.readInt(), r.readFloat(), r.readInts(), r.readFloats());
        }
        return lps;
    }

    static <E extends Enum<E>> E enumAt(E[] values, int ordinal) {
        if (ordinal < 0 || ordinal >= values.length) {
            throw new IllegalStateException("corrupt message: no " + values.getClass().getComponentType().getSimpleName()
                    + " with ordinal " + ordinal);
        }
        return values[ordinal];
    }
}
