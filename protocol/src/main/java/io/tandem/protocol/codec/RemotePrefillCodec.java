package io.tandem.protocol.codec;

import io.tandem.protocol.RemotePrefillMessage;
import io.tandem.protocol.TokenLogprobs;

/** The {@link RemotePrefillMessage} family: a kind byte, then the variant's fields (sampling as in generate requests). */
public final class RemotePrefillCodec extends BinaryCodec<RemotePrefillMessage> {
    private static final byte REQUEST = 0, RESULT = 1;

    public RemotePrefillCodec(String name) {
        super(name, "RemotePrefillMessage");
    }

    @Override
    void write(WireWriter w, RemotePrefillMessage m) {
        switch (m) {
            case RemotePrefillMessage.Request q -> {
                w.writeByte(REQUEST).writeString(q.requestId()).writeInts(q.promptTokens());
                GenerateRequestCodec.writeSampling(w, q.sampling());
                w.writeString(q.decodeWorkerId()).writeInts(q.blockTable()).writeInt(q.cachedTokens())
                        .writeLong(q.decodeEpoch()).writeLong(q.fenceToken());
            }
            case RemotePrefillMessage.Result r -> {
                w.writeByte(RESULT).writeString(r.requestId()).writeInt(r.firstToken());
                TokenLogprobs lp = r.logprobs();
                w.writeBoolean(lp != null);
                if (lp != null) w.writeInt(lp.token()).writeFloat(lp.logprob()).writeInts(lp.topTokens()).writeFloats(lp.topLogprobs());
                w.writeInt(r.prefillCachedTokens()).writeLong(r.transferredBytes());
            }
        }
    }

    @Override
    RemotePrefillMessage read(WireReader r) {
        byte kind = r.readByte();
        return switch (kind) {
            case REQUEST -> new RemotePrefillMessage.Request(r.readString(), r.readInts(), GenerateRequestCodec.readSampling(r),
                    r.readString(), r.readInts(), r.readInt(), r.readLong(), r.readLong());
            case RESULT -> {
                String id = r.readString();
                int token = r.readInt();
                TokenLogprobs lp = r.readBoolean() ? new TokenLogprobs(r.readInt(), r.readFloat(), r.readInts(), r.readFloats()) : null;
                yield new RemotePrefillMessage.Result(id, token, lp, r.readInt(), r.readLong());
            }
            default -> throw new IllegalArgumentException("unknown RemotePrefillMessage kind " + kind);
        };
    }
}
