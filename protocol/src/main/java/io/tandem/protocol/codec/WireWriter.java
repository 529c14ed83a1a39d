package io.tandem.protocol.codec;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/** Appends length-prefixed fields to a {@link Buffer}; arrays and strings use -1 for null. */
final class WireWriter {
    private final Buffer buf;

    WireWriter(Buffer buf) {
        this.buf = buf;
    }

    WireWriter writeByte(int b) {
        buf.appendByte((byte) b);
        return this;
    }

    WireWriter writeBoolean(boolean b) {
        return writeByte(b ? 1 : 0);
    }

    WireWriter writeInt(int v) {
        buf.appendInt(v);
        return this;
    }

    WireWriter writeLong(long v) {
        buf.appendLong(v);
        return this;
    }

    WireWriter writeDouble(double v) {
        buf.appendDouble(v);
        return this;
    }

    WireWriter writeFloat(float v) {
        buf.appendFloat(v);
        return this;
    }

    WireWriter writeString(String s) {
        if (s == null) return writeInt(-1);
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        buf.appendInt(bytes.length).appendBytes(bytes);
        return this;
    }

    WireWriter writeNullableLong(Long v) {
        writeBoolean(v != null);
        if (v != null) writeLong(v);
        return this;
    }

    WireWriter writeInts(int[] a) {
        if (a == null) return writeInt(-1);
        writeInt(a.length);
        for (int v : a) buf.appendInt(v);
        return this;
    }

    WireWriter writeLongs(long[] a) {
        if (a == null) return writeInt(-1);
        writeInt(a.length);
        for (long v : a) buf.appendLong(v);
        return this;
    }

    WireWriter writeFloats(float[] a) {
        if (a == null) return writeInt(-1);
        writeInt(a.length);
        for (float v : a) buf.appendFloat(v);
        return this;
    }
}
