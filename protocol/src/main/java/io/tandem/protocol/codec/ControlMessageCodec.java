package io.tandem.protocol.codec;

import io.tandem.protocol.ControlMessage;

/** {@link ControlMessage}s (credit, cancel); one instance is registered per variant, like {@link StreamMessageCodec}. */
public final class ControlMessageCodec extends BinaryCodec<ControlMessage> {
    private static final byte CREDIT = 0, CANCEL = 1;

    public ControlMessageCodec(String name) {
        super(name, "ControlMessage");
    }

    @Override
    void write(WireWriter w, ControlMessage m) {
        switch (m) {
            case ControlMessage.Credit c -> w.writeByte(CREDIT).writeString(c.requestId()).writeInt(c.tokens());
            case ControlMessage.Cancel c -> w.writeByte(CANCEL).writeString(c.requestId()).writeString(c.reason());
        }
    }

    @Override
    ControlMessage read(WireReader r) {
        byte kind = r.readByte();
        return switch (kind) {
            case CREDIT -> new ControlMessage.Credit(r.readString(), r.readInt());
            case CANCEL -> new ControlMessage.Cancel(r.readString(), r.readString());
            default -> throw new IllegalStateException("corrupt ControlMessage: unknown kind " + kind);
        };
    }
}
