package io.tandem.protocol.codec;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Base of Tandem's event-bus codecs: a leading format-version byte, then the fields in a
 * compact binary layout. Locally delivered messages are passed as the same instance — the
 * protocol's records are treated as immutable once sent.
 */
public abstract class BinaryCodec<T> implements MessageCodec<T, T> {
    /** Format version written first: the protocol version, so a node of another version is refused by name. */
    public static final byte VERSION = (byte) io.tandem.protocol.ProtocolVersion.CURRENT;

    private final String name;
    private final String what;

    BinaryCodec(String name, String what) {
        this.name = name;
        this.what = what;
    }

    @Override
    public final void encodeToWire(Buffer buffer, T value) {
        WireWriter w = new WireWriter(buffer).writeByte(VERSION);
        write(w, value);
    }

    @Override
    public final T decodeFromWire(int pos, Buffer buffer) {
        WireReader r = new WireReader(buffer, pos);
        r.expectVersion(VERSION, what);
        return read(r);
    }

    /** Encodes to a fresh buffer (for tests and for non-event-bus transports). */
    public final Buffer encode(T value) {
        Buffer b = Buffer.buffer();
        encodeToWire(b, value);
        return b;
    }

    public final T decode(Buffer buffer) {
        return decodeFromWire(0, buffer);
    }

    @Override
    public final T transform(T value) {
        return value;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final byte systemCodecID() {
        return -1;
    }

    abstract void write(WireWriter w, T value);

    abstract T read(WireReader r);
}
