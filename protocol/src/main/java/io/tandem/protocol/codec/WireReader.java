package io.tandem.protocol.codec;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/** A cursor over a {@link Buffer}, reading what {@link WireWriter} wrote. */
final class WireReader {
    private final Buffer buf;
    private int pos;

    WireReader(Buffer buf, int pos) {
        this.buf = buf;
        this.pos = pos;
    }

    byte readByte() {
        return buf.getByte(pos++);
    }

    boolean readBoolean() {
        return readByte() != 0;
    }

    int readInt() {
        int v = buf.getInt(pos);
        pos += 4;
        return v;
    }

    long readLong() {
        long v = buf.getLong(pos);
        pos += 8;
        return v;
    }

    float readFloat() {
        float v = buf.getFloat(pos);
        pos += 4;
        return v;
    }

    /** A string written by {@link WireWriter#string}, possibly null. */
    String readString() {
        int len = readLength();
        if (len < 0) return null;
        String s = buf.getString(pos, pos + len, StandardCharsets.UTF_8.name());
        pos += len;
        return s;
    }

    Long readNullableLong() {
        return readBoolean() ? readLong() : null;
    }

    int[] readInts() {
        int n = readLength();
        if (n < 0) return null;
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = readInt();
        return a;
    }

    float[] readFloats() {
        int n = readLength();
        if (n < 0) return null;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = readFloat();
        return a;
    }

    /** A length prefix, -1 for null; rejects lengths the remaining bytes cannot hold. */
    int readLength() {
        int n = readInt();
        if (n < -1 || n > buf.length() - pos) {
            throw new IllegalStateException("corrupt message: length " + n + " at offset " + (pos - 4)
                    + " exceeds the " + (buf.length() - pos) + " bytes left");
        }
        return n;
    }

    /** Checks the leading format version byte. */
    void expectVersion(byte expected, String what) {
        byte v = readByte();
        if (v != expected) {
            throw new IllegalStateException("unsupported " + what + " wire version " + v + " (this node reads "
                    + expected + "); are all nodes on the same Tandem version?");
        }
    }
}
