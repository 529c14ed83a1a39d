package io.tandem.protocol.codec;

import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.SamplingParams;

/** {@link GenerateRequest} on the wire: ids, prompt as an int array, every sampling field, the resumed tokens. */
public final class GenerateRequestCodec extends BinaryCodec<GenerateRequest> {
    public static final String NAME = "tandem.GenerateRequest";

    public GenerateRequestCodec() {
        super(NAME, "GenerateRequest");
    }

    @Override
    void write(WireWriter w, GenerateRequest r) {
        w.writeString(r.requestId()).writeString(r.model()).writeInts(r.promptTokens());
        writeSampling(w, r.sampling());
        w.writeString(r.streamAddress()).writeInt(r.initialCredits()).writeInts(r.resumedTokens()).writeInt(r.keepaliveMillis());
    }

    @Override
    GenerateRequest read(WireReader r) {
        String requestId = r.readString();
        String model = r.readString();
        int[] prompt = r.readInts();
        SamplingParams sampling = readSampling(r);
        return new GenerateRequest(requestId, model, prompt, sampling, r.readString(), r.readInt(), r.readInts(), r.readInt());
    }

    static void writeSampling(WireWriter w, SamplingParams s) {
        w.writeInt(s.maxTokens()).writeFloat(s.temperature()).writeFloat(s.topP()).writeInt(s.topK())
                .writeFloat(s.minP()).writeNullableLong(s.seed()).writeFloat(s.presencePenalty())
                .writeFloat(s.frequencyPenalty()).writeInts(s.stopTokenIds()).writeBoolean(s.ignoreEos())
                .writeInt(s.logprobs());
    }

    static SamplingParams readSampling(WireReader r) {
        return new SamplingParams(r.readInt(), r.readFloat(), r.readFloat(), r.readInt(), r.readFloat(),
                r.readNullableLong(), r.readFloat(), r.readFloat(), r.readInts(), r.readBoolean(), r.readInt());
    }
}
